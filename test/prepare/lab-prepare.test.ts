/**
 * `lifeboat prepare` end to end in the lab, run from the operator's host exactly as a
 * person would (the CLI over SSH with strict host keys): replication with semi-sync,
 * the Redis replica, upload files following the primary within the sync interval, the
 * installation archives on every store, and a second prepare that changes nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { randomBytes } from 'node:crypto';
import { Lab } from '../../src/lab/lab.ts';
import type { FleetStatus } from '../../src/health/fleet-status.ts';
import { canRunLab, EXAMPLE_FLEET, forceDown, randomLabId } from '../lab/helpers.ts';

const skip = canRunLab();
const CLI = 'cd /lifeboat && node bin/lifeboat.mjs';
const STATE = '--state /tmp/prepare-test-state.db';

describe('lifeboat prepare in the lab', { skip }, () => {
  const id = randomLabId();
  let lab: Lab;

  before(async () => {
    lab = await Lab.up({ id, fleetFile: EXAMPLE_FLEET });
  });
  after(() => forceDown(id));

  const ops = (command: string, timeoutMs = 300_000) => lab.exec('ops', command, { timeoutMs });

  test('prepare brings the fleet to its prepared state; prepare again changes nothing', async () => {
    const planned = await ops(`${CLI} prepare --fleet ${lab.fleetFile} --plan ${STATE}`);
    assert.equal(planned.code, 0, planned.stdout + planned.stderr);
    assert.match(planned.stdout, /CHANGE MASTER TO/);
    assert.match(planned.stdout, /would change \d+ of \d+ step/);
    const beforePrepare = await lab.exec('backup', 'ls /var/lib/lifeboat; cat /root/.ssh/authorized_keys');
    assert.doesNotMatch(beforePrepare.stdout, /lifeboat-sync/, '--plan changed nothing');

    const t0 = performance.now();
    const first = await ops(`${CLI} prepare --fleet ${lab.fleetFile} --yes ${STATE}`);
    const seconds = (performance.now() - t0) / 1000;
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.match(first.stdout, /changed \d+ of \d+ step/);
    process.stdout.write(`# first prepare of the example fleet: ${seconds.toFixed(1)} s\n`);

    // lifeboat status: replica running with its lag, Redis replica linked.
    const status = await ops(`${CLI} status --fleet ${lab.fleetFile} --json`, 60_000);
    const parsed = JSON.parse(status.stdout) as FleetStatus;
    const backup = parsed.machines.find((m) => m.name === 'backup')!;
    assert.equal(backup.mariadb?.role, 'replica', JSON.stringify(backup.mariadb));
    assert.equal(backup.mariadb?.ok, true, backup.mariadb?.detail);
    assert.match(backup.mariadb?.detail ?? '', /replica of 198\.51\.100\.\d+, \d+ s behind/);
    assert.equal(backup.redis?.role, 'replica');
    assert.match(backup.redis?.detail ?? '', /link up/);
    const sync = parsed.machines.find((m) => m.name === 'primary')!.uploadSync?.[0];
    assert.equal(sync?.target, 'backup', JSON.stringify(sync));
    assert.ok(sync?.ok && sync.lagS !== undefined && sync.lagS <= 6, sync?.detail);
    const text = await ops(`${CLI} status --fleet ${lab.fleetFile}`, 60_000);
    assert.match(text.stdout, /go-upload sync\s+to backup: last complete pass \d+ s ago/);
    // Stable endpoints on both app servers, forwarding to the primary, used by their services.
    const primaryAddress = parsed.machines.find((m) => m.name === 'primary')!.address;
    for (const name of ['primary', 'backup']) {
      const e = parsed.machines.find((m) => m.name === name)!.endpoints;
      assert.ok(e?.ok && e.inUse, `${name}: ${JSON.stringify(e)}`);
      // Inside TLS: to the primary's TLS gateway in front of MariaDB, and to Redis's TLS port.
      assert.deepEqual(e.forwards, { mariadb: `${primaryAddress}:13307 tls`, redis: `${primaryAddress}:16380 tls` });
    }
    assert.match(text.stdout, /ok\s+endpoints\s+mariadb → 198\.51\.100\.\d+:13307 tls, redis → 198\.51\.100\.\d+:16380 tls; the services use them/);
    // status says which links are encrypted: lifeboat's own, and the replicas' to the primary.
    assert.match(backup.mariadb?.wire?.connection ?? '', /^tls \(TLSv1\.[23]\)$/, JSON.stringify(backup.mariadb?.wire));
    assert.equal(backup.mariadb?.wire?.link, 'tls, server verified');
    assert.deepEqual(backup.redis?.wire, { connection: 'tls', link: 'tls, certificate checked, name not' });
    assert.match(text.stdout, /mariadb wire\s+lifeboat's connection tls \(TLSv1\.[23]\), replication link tls, server verified/);
    // Every store holds the primary's binary log as it is written (hk, off-site, sealed): a
    // copy may be a moment behind (the stand-ins write all the time), never for long.
    type Copies = { binlogCopies: Array<{ store: string; ok: boolean; detail: string }> };
    let copies = (JSON.parse(status.stdout) as Copies).binlogCopies;
    assert.deepEqual(copies.map((c) => c.store).sort(), ['backup', 'hk', 'report']);
    for (let i = 0; i < 20 && !copies.every((c) => c.ok); i++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      copies = (JSON.parse((await ops(`${CLI} status --fleet ${lab.fleetFile} --json`, 60_000)).stdout) as Copies).binlogCopies;
    }
    assert.ok(copies.every((c) => c.ok), JSON.stringify(copies));
    const config = await lab.exec('backup', 'cat /wwwroot/go/go-fly/config/mysql.json');
    assert.match(config.stdout, /"Port": "?13306"?/, `go-fly reaches MariaDB through the endpoint: ${config.stdout}`);

    // A write acknowledged by the primary is on the backup (semi-sync, then applied).
    const semi = await lab.exec('primary', `mariadb -N -e "SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_master_status'"`);
    assert.match(semi.stdout, /ON/);

    // An uploaded file appears on the backup within the sync interval (2 s) and a margin.
    const name = `e2e-${randomBytes(4).toString('hex')}.jpg`;
    await lab.exec('primary', `echo uploaded > /wwwroot/go/go-upload/uploads/${name}`);
    const started = Date.now();
    let seen = false;
    while (!seen && Date.now() - started < 10_000) {
      seen = (await lab.exec('backup', `test -f /wwwroot/go/go-upload/uploads/${name}`)).code === 0;
      if (!seen) await new Promise((r) => setTimeout(r, 200));
    }
    const lagMs = Date.now() - started;
    assert.ok(seen, `${name} did not reach the backup within 10 s`);
    assert.ok(lagMs < 5000, `${name} reached the backup after ${lagMs} ms (interval 2 s)`);
    process.stdout.write(`# upload reached the backup after ${lagMs} ms\n`);

    // Installation archives of the primary on every store, checksums right, off-site encrypted.
    for (const store of ['backup', 'report', 'hk']) {
      const r = await lab.exec(store, 'cd /root/workdir/primary && sha256sum --status -c "$(cat LATEST).sha256" && cat LATEST');
      assert.equal(r.code, 0, `${store}: ${r.stderr}`);
      assert.match(r.stdout.trim(), store === 'hk' ? /^install-primary-[0-9a-f]{16}\.tar\.gz\.enc$/ : /^install-primary-[0-9a-f]{16}\.tar\.gz$/);
    }
    const listing = await lab.exec('backup', 'tar -tzf /root/workdir/primary/$(cat /root/workdir/primary/LATEST)');
    assert.match(listing.stdout, /^wwwroot\/go\/go-api\//m);
    assert.doesNotMatch(listing.stdout, new RegExp(name), 'upload files are not installation files');

    // The settings survive a restart (my.cnf drop-in, redis.conf block): crash both and bring them back.
    await lab.fault({ kind: 'mariadb-crashed', host: 'backup' });
    await lab.heal();
    const vars = await lab.exec('backup', `mariadb -N -e "SELECT @@read_only, @@rpl_semi_sync_slave_enabled"`);
    assert.match(vars.stdout, /^1\s+1$/m, vars.stdout + vars.stderr);
    const replicaAgain = await lab.exec('backup', `i=0; until mariadb -e "SHOW SLAVE STATUS\\G" | grep -q "Slave_SQL_Running: Yes"; do i=$((i+1)); [ $i -ge 100 ] && exit 1; sleep 0.1; done`);
    assert.equal(replicaAgain.code, 0, 'replication resumes after the replica restarts');

    const again = await ops(`${CLI} prepare --fleet ${lab.fleetFile} --yes ${STATE}`);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /nothing to change: the fleet is already in its prepared state/);
  });
});
