/**
 * The lab against real namespaces and real servers: bring the example fleet up with a
 * random id, check isolation and that every server answers from the operator's host
 * (sshd with strict host-key checking), bring it up again (repair, fast), bring it down and
 * check that nothing is left. Prints bring-up and teardown times.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { after, before, describe, test } from 'node:test';
import { parse } from 'yaml';
import { fleetSchema } from '../../src/fleet/schema.ts';
import { Lab } from '../../src/lab/lab.ts';
import { hostNamespace } from '../../src/lab/network.ts';
import { runLocalChecked } from '../../src/lab/run.ts';
import { findLeftovers } from '../../src/lab/teardown.ts';
import { RemoteFileNotFoundError, RemoteTimeoutError, runChecked } from '../../src/remote/remote.ts';
import { canRunLab, EXAMPLE_FLEET, forceDown, randomLabId } from './helpers.ts';

const skip = canRunLab();

async function rootLinks(): Promise<string> {
  return (await runLocalChecked(['ip', '-br', 'link'])).stdout.split('\n').map((l) => l.split(/\s+/)[0]).sort().join(' ');
}

describe('lab lifecycle', { skip }, () => {
  const id = randomLabId();
  let lab: Lab;
  let linksBefore = '';
  let upMs = 0;
  const progress: string[] = [];

  before(async () => {
    linksBefore = await rootLinks();
    const t0 = performance.now();
    lab = await Lab.up({ id, fleetFile: EXAMPLE_FLEET, log: (l) => progress.push(l) });
    upMs = performance.now() - t0;
    process.stdout.write(`# bring-up of the example fleet (${lab.hosts.length} hosts): ${(upMs / 1000).toFixed(2)} s\n`);
  });
  after(() => forceDown(id));

  test('bring-up is under 20 s (on a machine not saturated by others) and reports every host with its timing', () => {
    // The target holds on an idle 2-core machine; when other work already saturates the
    // cores (load average above twice the core count) the budget widens, and says so.
    const busy = loadavg()[0]! > 2 * availableParallelism();
    const budget = Number(process.env.LIFEBOAT_LAB_UP_BUDGET_MS ?? (busy ? 60_000 : 20_000));
    if (busy) process.stdout.write(`# machine busy (load ${loadavg()[0]!.toFixed(1)}): bring-up budget ${budget / 1000} s\n`);
    assert.ok(upMs < budget, `bring-up took ${upMs} ms (budget ${budget} ms)`);
    for (const h of lab.hosts) assert.ok(progress.some((l) => l.startsWith(h.name + ' ')), `no progress line for ${h.name}`);
  });

  test('hosts: fleet machines, two spares, client, ops and dns, each in its own namespace', async () => {
    const names = lab.hosts.map((h) => h.name).sort();
    assert.deepEqual(names, ['backup', 'client', 'dns', 'edge-1', 'edge-2', 'hk', 'ops', 'primary', 'report', 'spare-1', 'spare-2']);
    const { stdout } = await runLocalChecked(['ip', 'netns', 'list']);
    for (const h of lab.hosts) assert.match(stdout, new RegExp(`^${hostNamespace(id, h.name)}\\b`, 'm'));
    assert.equal(await rootLinks(), linksBefore, "the machine's own links changed");
  });

  test('no default route and no IPv6 in any host', async () => {
    for (const h of lab.hosts) {
      const route = await runChecked(lab.remote(h.name), 'ip -4 route show default; ip -6 addr show | grep inet6 || true');
      assert.equal(route.stdout.trim(), '', `${h.name} has ${route.stdout}`);
    }
  });

  test('a file under /wwwroot or /var/tmp on primary is not visible on backup', async () => {
    const marker = `/wwwroot/lab-isolation-${id}`;
    await runChecked(lab.remote('primary'), `echo primary > ${marker}`);
    assert.equal((await lab.exec('primary', `cat ${marker}`)).stdout, 'primary\n');
    assert.equal((await lab.exec('backup', `test -e ${marker}`)).code, 1);
    // /var/tmp is the host's own too (backups stage there), unlike the rest of /var.
    await runChecked(lab.remote('primary'), `echo primary > /var/tmp/lab-isolation-${id}`);
    assert.equal((await lab.exec('backup', `test -e /var/tmp/lab-isolation-${id}`)).code, 1);
    // Nor through the machine's path of the lab folders.
    assert.equal((await lab.exec('backup', `ls /var/lib/lifeboat/labs/${id}/hosts 2>/dev/null | wc -l`)).stdout.trim(), '0');
  });

  test('every server answers from the ops host', async () => {
    const ops = lab.remote('ops');
    const ip = (name: string) => lab.host(name).address;
    for (const db of ['primary', 'backup']) {
      const r = await runChecked(ops, `mariadb -h ${ip(db)} -uroot -p"$(cat /lab/secrets/db-admin-password)" --connect-timeout=2 -N -e 'SELECT @@server_id, @@gtid_strict_mode, @@log_bin'`);
      assert.equal(r.stdout.trim(), `${ip(db).split('.').pop()}\t1\t1`);
      const app = await runChecked(ops, `mariadb -h ${ip(db)} -uspeed -p"$(cat /lab/secrets/db-app-password)" --connect-timeout=2 -N speed -e 'SELECT DATABASE()'`);
      assert.equal(app.stdout.trim(), 'speed');
      const redis = await runChecked(ops, `timeout 2 redis-cli -h ${ip(db)} ping`);
      assert.equal(redis.stdout.trim(), 'PONG');
    }
    for (const edge of ['edge-1', 'edge-2']) {
      const r = await runChecked(ops, `curl -s -m 2 http://${ip(edge)}/lab-edge-health`);
      assert.equal(r.stdout, 'ok\n');
    }
    const dns = await runChecked(lab.remote('client'), 'dig +short +time=1 +tries=1 thertee.xyz; dig +short +time=1 +tries=1 beiyo.xyz');
    assert.equal(dns.stdout, `${ip('edge-1')}\n${ip('backup')}\n`);
    const sup = await runChecked(lab.remote('primary'), 'supervisorctl -c /etc/supervisor/supervisord.conf pid');
    assert.match(sup.stdout.trim(), /^\d+$/);
  });

  test('sshd on every fleet machine and spare passes strict host-key checking; a wrong key is refused', async () => {
    const ssh = (target: string, knownHosts = '/lab/ssh/known_hosts') =>
      `ssh -i /lab/ssh/id_ed25519 -o UserKnownHostsFile=${knownHosts} -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=2 root@${target} hostname`;
    for (const h of lab.hosts.filter((x) => x.kind === 'fleet' || x.kind === 'spare')) {
      const r = await lab.exec('ops', ssh(h.address));
      assert.equal(r.code, 0, `${h.name}: ${r.stderr}`);
      assert.equal(r.stdout.trim(), h.name);
    }
    // primary's key filed under backup's address: ssh must refuse backup.
    await runChecked(lab.remote('ops'), `grep '^primary,' /lab/ssh/known_hosts | sed 's/^primary,[0-9.]*/${lab.host('backup').address}/' > /tmp/wrong_known_hosts`);
    const refused = await lab.exec('ops', ssh(lab.host('backup').address, '/tmp/wrong_known_hosts'));
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
  });

  test('the derived fleet file parses with the fleet schema, and lifeboat check and status work against it from ops', async () => {
    const fleet = fleetSchema.parse(parse(await readFile(lab.fleetFile, 'utf8')));
    assert.equal(fleet.machines.find((m) => m.name === 'primary')?.address, lab.host('primary').address);
    assert.deepEqual(fleet.machines.filter((m) => m.roles.includes('spare')).map((m) => m.name), ['spare-1', 'spare-2']);
    assert.match(fleet.database?.password ?? '', /^file:\//);
    assert.match(fleet.ssh.identity ?? '', /^file:\//);
    // lifeboat itself runs inside ops against it.
    const check = await lab.exec('ops', `cd /lifeboat && node bin/lifeboat.mjs fleet check --fleet ${lab.fleetFile}`, { timeoutMs: 60_000 });
    assert.equal(check.code, 0, check.stderr);
    // …and reaches every machine over SSH (ssh2, strict host keys) and finds every server healthy.
    const status = await lab.exec('ops', `cd /lifeboat && node bin/lifeboat.mjs status --fleet ${lab.fleetFile}`, { timeoutMs: 120_000 });
    assert.equal(status.code, 0, status.stdout + status.stderr);
    for (const h of lab.hosts.filter((x) => x.kind === 'fleet' || x.kind === 'spare')) assert.match(status.stdout, new RegExp(`^ok\\s+${h.name}\\s`, 'm'));
  });

  test('the Remote over nsenter: write with backup, read, missing file, timeout', async () => {
    const remote = lab.remote('backup');
    const first = await remote.writeFile('/wwwroot/remote-test.conf', 'a = 1\n', { mode: 0o640 });
    assert.deepEqual(first, { unchanged: false });
    const second = await remote.writeFile('/wwwroot/remote-test.conf', 'a = 2\n');
    assert.ok(second.backupPath?.startsWith('/wwwroot/remote-test.conf.lifeboat-'));
    assert.equal((await remote.readFile(second.backupPath!)).toString(), 'a = 1\n');
    assert.equal((await remote.readFile('/wwwroot/remote-test.conf')).toString(), 'a = 2\n');
    assert.deepEqual(await remote.writeFile('/wwwroot/remote-test.conf', 'a = 2\n'), { unchanged: true });
    assert.equal((await remote.run('stat -c %a /wwwroot/remote-test.conf')).stdout.trim(), '640');
    await assert.rejects(remote.readFile('/wwwroot/missing'), RemoteFileNotFoundError);
    await assert.rejects(remote.run('sleep 5', { timeoutMs: 200 }), RemoteTimeoutError);
  });

  test('lab up again repairs and is fast; Lab.open sees the same lab', async () => {
    const pid = lab.anchorPid('primary');
    // Something died: the second run must bring it back.
    await runChecked(lab.remote('edge-1'), 'kill "$(cat /run/nginx.pid)"; sleep 0.2');
    const t0 = performance.now();
    const again = await Lab.up({ id, fleetFile: EXAMPLE_FLEET });
    const ms = performance.now() - t0;
    process.stdout.write(`# second lab up (check and repair): ${(ms / 1000).toFixed(2)} s\n`);
    assert.ok(ms < 5000, `second up took ${ms} ms`);
    assert.equal(again.anchorPid('primary'), pid, 'a running host was restarted');
    const status = await (await Lab.open(id)).status();
    for (const h of status.hosts) {
      assert.ok(h.running && h.link, `${h.name} not up`);
      for (const [name, ok] of Object.entries(h.servers)) assert.ok(ok, `${h.name}: ${name} down`);
    }
  });

  test('lab down leaves no namespace, process or mount, in under 5 s', async () => {
    const t0 = performance.now();
    await lab.down();
    const ms = performance.now() - t0;
    process.stdout.write(`# teardown: ${(ms / 1000).toFixed(2)} s\n`);
    assert.ok(ms < 5000, `teardown took ${ms} ms`);
    assert.deepEqual(await findLeftovers(id), { namespaces: [], processes: [], mounts: [] });
    assert.equal(await rootLinks(), linksBefore);
  });
});
