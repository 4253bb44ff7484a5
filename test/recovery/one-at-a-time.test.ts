/**
 * Acceptance ("never make things worse", continued):
 * - A replica stopped for longer than the semi-sync time-out: `status` flags that
 *   acknowledged writes are at risk; after the primary dies, `recover` names the window
 *   (the last transaction the replica received) and changes nothing; `--accept-data-loss`
 *   recovers and records the window in the journal.
 * - Two `recover` runs started at once from two hosts of the lab (the ops host and the
 *   client host, each with its own journal): exactly one proceeds, the other is refused by
 *   the first one's marker on the machines, naming it.
 *
 * The old primary coming back (`recover rejoin`) is the rejoin drill's, in
 * test/drills/shopfront.test.ts: its rows extracted (0600), the fleet file naming it a
 * replica again, its old upload sync retired, a semi-sync replica with every row.
 *
 * One lab for the file; the primary dies once, for all.
 */
import assert from 'node:assert/strict';
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Lab } from '../../src/lab/lab.ts';
import { canRunLab, EXAMPLE_FLEET, forceDown, randomLabId } from '../lab/helpers.ts';
import { snapshot } from '../support/lab-snapshot.ts';

const skip = canRunLab();
const CLI = 'cd /lifeboat && node bin/lifeboat.mjs';
const STATE = '--state /tmp/lb.db';

interface StatusJson {
  healthy: boolean;
  risks: Array<{ machine: string; risk: string }>;
  machines: Array<{ name: string; mariadb?: { replication?: { semiSync?: string; receiving?: string; gtidReceived?: string } } }>;
}

describe('replication at risk is visible and recoverable; one recovery at a time', { skip }, () => {
  const id = randomLabId();
  let lab: Lab;
  let lastReceived = '';
  /** The host whose run recovered: its journal and fleet file know the new roles. */

  const on = (host: string, command: string, timeoutMs = 300_000) => lab.exec(host, command, { timeoutMs });
  const cli = (host: string, args: string) => on(host, `${CLI} ${args} --fleet ${lab.operatorFleetFile} ${STATE}`, 240_000);
  const output = (r: { stdout: string; stderr: string }) => `--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

  before(async () => {
    lab = await Lab.up({ id, fleetFile: EXAMPLE_FLEET });
    // The client plays a second operator here: it gets its own copy of the fleet file too.
    await copyFile(join(lab.paths.host('ops'), lab.operatorFleetFile), join(lab.paths.host('client'), lab.operatorFleetFile));
    const prepared = await on('ops', `${CLI} prepare --fleet ${lab.operatorFleetFile} --yes ${STATE}`);
    assert.equal(prepared.code, 0, output(prepared));
  });
  after(() => forceDown(id));

  test('a replica stopped past the semi-sync time-out: status flags the risk', async () => {
    const stop = await on('backup', `mariadb -e 'STOP SLAVE'`);
    assert.equal(stop.code, 0, output(stop));
    // With no replica acknowledging, the primary's first commit waits out the time-out,
    // then it commits without anyone: these rows exist only on the primary.
    const t0 = performance.now();
    const write = await on('primary', `mariadb -e "INSERT INTO speed.users (username, password_hash) VALUES ('at-risk-1', 'x'), ('at-risk-2', 'x')"`);
    assert.equal(write.code, 0, output(write));
    assert.ok(performance.now() - t0 > 3000, 'the commit waited for the semi-sync time-out');

    const r = await on('ops', `${CLI} status --fleet ${lab.operatorFleetFile} --json`);
    assert.equal(r.code, 1, output(r));
    const status = JSON.parse(r.stdout) as StatusJson;
    assert.equal(status.healthy, false);
    const primary = status.machines.find((m) => m.name === 'primary')!;
    const backup = status.machines.find((m) => m.name === 'backup')!;
    assert.equal(primary.mariadb?.replication?.semiSync, 'async');
    assert.equal(backup.mariadb?.replication?.receiving, 'stopped');
    lastReceived = backup.mariadb?.replication?.gtidReceived ?? '';
    assert.deepEqual(status.risks.map((x) => x.machine).sort(), ['backup', 'primary']);
    const text = await on('ops', `${CLI} status --fleet ${lab.operatorFleetFile}`);
    assert.match(text.stdout, /AT RISK/, output(text));
    assert.match(text.stdout, /fell back to async/, output(text));
  });

  test('the primary dies: recover names the window and changes nothing', async () => {
    await lab.fault({ kind: 'machine-down', host: 'primary' });
    // The dead primary cannot be read; every other host can.
    const before = await snapshot(lab, ['primary']);
    const r = await cli('ops', 'recover primary-down --failed primary --yes --confirm-fenced primary');
    assert.equal(r.code, 1, output(r));
    assert.match(r.stderr, /backup stopped receiving/, output(r));
    assert.ok(lastReceived && r.stderr.includes(lastReceived), `the last received GTID ${lastReceived} is named\n${output(r)}`);
    assert.match(r.stderr, /--accept-data-loss/, output(r));
    assert.deepEqual(await snapshot(lab, ['primary']), before);
  });

  test('two runs started at once from two hosts with --accept-data-loss: exactly one proceeds, and it recovers', async () => {
    const args = 'recover primary-down --failed primary --yes --json --accept-data-loss --confirm-fenced primary';
    const [a, b] = await Promise.all([cli('ops', args), cli('client', args)]);
    const results = [{ host: 'ops', r: a }, { host: 'client', r: b }];
    const winners = results.filter((x) => x.r.code === 0);
    const losers = results.filter((x) => x.r.code !== 0);
    assert.equal(winners.length, 1, results.map((x) => `${x.host} exit ${x.r.code}\n${output(x.r)}`).join('\n'));
    const winner = JSON.parse(winners[0]!.r.stdout) as {
      id: string; outcome: string; input: { database?: { window?: { lastReceived: string }; seen?: { receiving: string; gtidReceived: string } } };
    };
    assert.equal(winner.outcome, 'recovered');
    // The accepted window, and the replica as the decision saw it, are recorded with the run.
    assert.equal(winner.input.database?.window?.lastReceived, lastReceived);
    assert.equal(winner.input.database?.seen?.receiving, 'stopped');
    assert.equal(winner.input.database?.seen?.gtidReceived, lastReceived);

    const loser = losers[0]!;
    const said = loser.r.stdout + loser.r.stderr;
    assert.match(said, new RegExp(`another recovery holds \\S+: run ${winner.id}`), output(loser.r));
    if (loser.r.stdout.trim().startsWith('{')) {
      const run = JSON.parse(loser.r.stdout) as { steps: Array<{ mutating: boolean; state: string }> };
      assert.ok(run.steps.every((s) => !s.mutating || s.state === 'pending'), `the refused run changed nothing: ${loser.r.stdout}`);
    }

    // One writable database, on the backup; the markers are gone with the finished run.
    const ro = await on('backup', `mariadb -N -B -e 'SELECT @@global.read_only'`);
    assert.equal(ro.stdout.trim(), '0');
    const marker = await on('backup', 'ls -d /var/lib/lifeboat/recovery-lock 2>/dev/null || echo none');
    assert.equal(marker.stdout.trim(), 'none');
  });
});
