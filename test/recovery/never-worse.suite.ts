/**
 * Acceptance ("never make things worse"): a primary cut off from the operator only, or from
 * the edges only, is not dead. `recover` (its diagnosis and `primary-down --yes`) changes
 * nothing and prints the vantage table; with `--force` the old primary is fenced through a
 * machine that still sees it (MariaDB read-only, its services stopped, its Redis a replica)
 * before the backup is promoted. A heir whose MariaDB cannot be read stops the run before
 * anything is restored or installed. In no test do two machines take writes or run a
 * singleton at once. "Changes nothing" is measured with a snapshot of every host.
 *
 * On the lab on-a-prepared-lab.test.ts prepares once, after plan-and-refusals (which changes
 * nothing); lifeboat runs inside the ops host.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { Lab } from '../../src/lab/lab.ts';
import { canRunLab } from '../lab/helpers.ts';
import { preparedLab, SHARED_STATE } from '../support/prepared-lab.ts';
import { snapshot, type LabSnapshot } from '../support/lab-snapshot.ts';

const skip = canRunLab();
const CLI = 'cd /lifeboat && node bin/lifeboat.mjs';
const STATE = `--state ${SHARED_STATE}`;
const SINGLETONS = ['go-job', 'go-upload'];

describe('never make things worse: one verdict from several vantage points, real fencing', { skip }, () => {
  let lab: Lab;
  let baseline: LabSnapshot;

  const ops = (command: string, timeoutMs = 300_000) => lab.exec('ops', command, { timeoutMs });
  const recover = (args: string) => ops(`${CLI} recover ${args} --fleet ${lab.operatorFleetFile} ${STATE}`, 180_000);
  const output = (r: { stdout: string; stderr: string }) => `--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

  /** Who takes writes and who runs a singleton, on the two app servers, read from inside them. */
  async function writersAndSingletons(): Promise<{ writable: string[]; running: Record<string, string[]> }> {
    const writable: string[] = [];
    const running: Record<string, string[]> = {};
    for (const host of ['primary', 'backup']) {
      const ro = await lab.exec(host, `pgrep -x mariadbd >/dev/null && mariadb -N -B -e 'SELECT @@global.read_only' || echo stopped`);
      if (ro.stdout.trim() === '0') writable.push(host);
      const programs = await lab.exec(host, 'supervisorctl -c /etc/supervisor/supervisord.conf status 2>/dev/null || true');
      for (const s of SINGLETONS) if (new RegExp(`^${s}\\s+RUNNING`, 'm').test(programs.stdout)) (running[s] ??= []).push(host);
    }
    return { writable, running };
  }

  async function assertOneWriterOneSingleton(when: string): Promise<void> {
    const { writable, running } = await writersAndSingletons();
    assert.ok(writable.length <= 1, `${when}: ${writable.join(' and ')} both accept writes`);
    for (const s of SINGLETONS) assert.ok((running[s] ?? []).length <= 1, `${when}: ${s} runs on ${running[s]!.join(' and ')}`);
  }

  before(async () => {
    lab = await preparedLab();
    baseline = await snapshot(lab);
    // The snapshot must see what it guards, or equal snapshots prove nothing.
    assert.equal(baseline['backup']?.mariadb?.replicating, true);
    assert.equal(baseline['primary']?.mariadb?.readOnly, '0');
    assert.equal(baseline['primary']?.programs['go-job'], 'RUNNING');
  });

  test("the heir's MariaDB unreadable while the run decides: the run fails, nothing is restored or installed", async () => {
    // Every new connection to the backup's MariaDB is dropped on the switch.
    await lab.fault({ kind: 'port-blocked', host: 'backup', port: 3306 });
    try {
      const r = await recover('primary-down --failed primary --yes');
      assert.equal(r.code, 1, output(r));
      assert.match(r.stderr, /cannot read the replication state of backup's MariaDB/, output(r));
      assert.match(r.stderr, /nothing was changed/, output(r));
      assert.doesNotMatch(r.stdout + r.stderr, /load the newest good dump|Install go-upload/, output(r));
    } finally {
      await lab.heal({ kind: 'port-blocked', host: 'backup', port: 3306 });
    }
    assert.deepEqual(await snapshot(lab), baseline);
  });

  for (const cut of [
    { name: "cut from the operator's machine only", faults: [{ kind: 'partition' as const, hosts: ['ops', 'primary'] }], sees: /edge-1\s+up/ },
    {
      name: 'cut from the edges only',
      faults: [{ kind: 'partition' as const, hosts: ['primary', 'edge-1'] }, { kind: 'partition' as const, hosts: ['primary', 'edge-2'] }],
      sees: /operator\s+up/,
    },
  ]) {
    test(`the primary ${cut.name}: diagnosis and primary-down --yes change nothing and print the vantage table`, async () => {
      for (const f of cut.faults) await lab.fault(f);
      try {
        const diagnosis = await recover('');
        assert.equal(diagnosis.code, 1, output(diagnosis));
        assert.match(diagnosis.stdout, /primary \(\S+\): unreachable-from-some/, output(diagnosis));
        assert.match(diagnosis.stdout, cut.sees, output(diagnosis));
        assert.match(diagnosis.stdout, /Not recovering/, output(diagnosis));
        assert.doesNotMatch(diagnosis.stdout, /Diagnosis: primary-down/, output(diagnosis));

        const run = await recover('primary-down --failed primary --yes');
        assert.equal(run.code, 1, output(run));
        assert.match(run.stdout, /primary is not dead but unreachable-from-some/, output(run));
        assert.match(run.stdout, /vantage|operator\s+(up|down)/, output(run));
        assert.match(run.stdout, cut.sees, output(run));
        await assertOneWriterOneSingleton(cut.name);
      } finally {
        for (const f of cut.faults) await lab.heal(f);
      }
      assert.deepEqual(await snapshot(lab), baseline);
    });
  }

  test('with --force, the old primary is fenced through a machine that still sees it before the backup is promoted', async () => {
    await lab.fault({ kind: 'partition', hosts: ['ops', 'primary'] });
    try {
      const r = await recover('primary-down --failed primary --yes --force --json');
      assert.equal(r.code, 0, output(r));
      const run = JSON.parse(r.stdout) as { outcome: string; steps: Array<{ title: string; state: string }> };
      assert.equal(run.outcome, 'recovered');
      const titles = run.steps.map((s) => s.title);
      const fence = titles.findIndex((t) => t.startsWith('Fence the old primary'));
      const promote = titles.findIndex((t) => t.startsWith('Bring the database up on backup'));
      assert.ok(fence >= 0 && fence < promote, `the fence comes before the promotion: ${titles.join(' | ')}`);
      assert.match(r.stderr, /primary fenced through (edge-1|edge-2|backup)/, output(r));

      // Read from inside the old primary: its effect is there.
      const ro = await lab.exec('primary', `mariadb -N -B -e 'SELECT @@global.read_only'`);
      assert.equal(ro.stdout.trim(), '1', output(ro));
      const programs = await lab.exec('primary', 'supervisorctl -c /etc/supervisor/supervisord.conf status || true');
      for (const s of SINGLETONS) assert.doesNotMatch(programs.stdout, new RegExp(`^${s}\\s+RUNNING`, 'm'), programs.stdout);
      const redis = await lab.exec('primary', 'redis-cli -p 6379 INFO replication');
      assert.match(redis.stdout, /role:slave/, output(redis));
      const backupRo = await lab.exec('backup', `mariadb -N -B -e 'SELECT @@global.read_only'`);
      assert.equal(backupRo.stdout.trim(), '0', output(backupRo));
      await assertOneWriterOneSingleton('after the forced recovery');
      const { running } = await writersAndSingletons();
      assert.deepEqual(running['go-job'], ['backup']);
    } finally {
      await lab.heal();
    }
  });
});
