import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Change } from '../actions/action.ts';
import { runRecovery, RecoveryError, type ConfirmAnswer, type ProgressEvent } from './engine.ts';
import { applicationCounts, fakeCheck, fakeContext, fakeFileAction } from './fakes.ts';
import { Journal, JournalError } from './journal.ts';
import { check, parallel, step, type Scenario, type Step } from './step.ts';

function setup(t: TestContext) {
  const dir = mkdtempSync(join(tmpdir(), 'lifeboat-engine-'));
  const journal = Journal.open(join(dir, 'state.db'));
  t.after(() => {
    journal.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, journal };
}

function scenarioOf(build: () => Step[], followUps: string[] = []): Scenario {
  return { name: 'fake-down', describe: 'a fake failure', build, followUps: () => followUps };
}

const input = { failed: 'primary' };

test('auto runs every step in order, verifies each, and records timings', async (t) => {
  const { dir, journal } = setup(t);
  const logs: string[] = [];
  const events: ProgressEvent[] = [];
  const scenario = scenarioOf(() => [
    check('Confirm the backup is healthy', fakeCheck('backup', () => true)),
    step('Write a', fakeFileAction(dir, 'a')),
    parallel('Write b and c', [fakeFileAction(dir, 'b'), fakeFileAction(dir, 'c')]),
    step(fakeFileAction(dir, 'd')),
  ], ['Buy a new backup machine']);
  const run = await runRecovery({ scenario, input, ctx: fakeContext(logs), mode: 'auto', journal, onProgress: (e) => events.push(e) });
  assert.equal(run.outcome, 'recovered');
  assert.equal(run.fleet, 'fake-fleet');
  assert.deepEqual(run.followUps, ['Buy a new backup machine']);
  assert.deepEqual(run.steps.map((s) => [s.index, s.parent, s.title, s.state]), [
    [0, null, 'Confirm the backup is healthy', 'verified'],
    [1, null, 'Write a', 'verified'],
    [2, null, 'Write b and c', 'verified'],
    [3, 2, 'Write b', 'verified'],
    [4, 2, 'Write c', 'verified'],
    [5, null, 'Write d', 'verified'],
  ]);
  for (const s of run.steps) assert.ok(s.startedAt !== null && s.endedAt !== null && s.endedAt >= s.startedAt);
  assert.deepEqual([...applicationCounts(dir).values()], [1, 1, 1, 1]);
  assert.equal(run.steps[1]!.output, 'wrote a\n');
  assert.ok(logs.includes('wrote d'));
  assert.deepEqual(run.steps[1]!.changes, [{ kind: 'file', machine: 'fake', path: join(dir, 'a'), diff: '+a done' }]);
  assert.equal(events.filter((e) => e.type === 'step-finished').length, 5);
  assert.ok(run.events.some((e) => e.event === 'run-recovered'));
});

test('a failed verify fails the step and stops the run before any further step', async (t) => {
  const { dir, journal } = setup(t);
  const scenario = scenarioOf(() => [
    step('Write a', fakeFileAction(dir, 'a')),
    step('Write b', fakeFileAction(dir, 'b', { failVerify: () => true })),
    step('Write c', fakeFileAction(dir, 'c')),
  ]);
  const run = await runRecovery({ scenario, input, ctx: fakeContext(), mode: 'auto', journal });
  assert.equal(run.outcome, 'failed');
  assert.match(run.error ?? '', /^step 2 "Write b" failed: b is not there$/);
  assert.deepEqual(run.steps.map((s) => s.state), ['verified', 'failed', 'pending']);
  assert.equal(run.steps[1]!.errorCode, 'verify-failed');
  assert.equal(existsSync(join(dir, 'c')), false);
});

test('a failed precondition stops the run before anything is changed', async (t) => {
  const { dir, journal } = setup(t);
  const scenario = scenarioOf(() => [
    check('Confirm the backup is healthy', fakeCheck('backup', () => false)),
    step('Write a', fakeFileAction(dir, 'a')),
  ]);
  const run = await runRecovery({ scenario, input, ctx: fakeContext(), mode: 'auto', journal });
  assert.equal(run.outcome, 'failed');
  assert.equal(run.steps[0]!.errorCode, 'precondition');
  assert.equal(applicationCounts(dir).size, 0);
});

test('plan records every change, runs the checks, and applies nothing', async (t) => {
  const { dir, journal } = setup(t);
  let checked = 0;
  const scenario = scenarioOf(() => [
    check('Confirm the backup is healthy', fakeCheck('backup', () => ++checked > 0)),
    step('Write a', fakeFileAction(dir, 'a')),
    parallel('Write b and c', [fakeFileAction(dir, 'b'), fakeFileAction(dir, 'c')]),
  ]);
  const run = await runRecovery({ scenario, input, ctx: fakeContext(), mode: 'plan', journal });
  assert.equal(run.outcome, 'planned');
  assert.equal(checked, 1);
  assert.deepEqual(run.steps.map((s) => s.state), ['verified', 'pending', 'pending', 'pending', 'pending']);
  assert.equal(run.steps[3]!.changes.length, 1);
  assert.equal(applicationCounts(dir).size, 0);

  const quiet = await runRecovery({ scenario, input, ctx: fakeContext(), mode: 'plan', journal, runChecksInPlan: false });
  assert.equal(checked, 1);
  assert.equal(quiet.steps[0]!.state, 'pending');
  await assert.rejects(runRecovery({ scenario, input, ctx: fakeContext(), mode: 'auto', journal, resumeRunId: quiet.id }),
    (e: unknown) => e instanceof JournalError && e.code === 'not-resumable');
});

test('confirm asks before each mutating step only; "no" stops, "all" stops asking', async (t) => {
  const { dir, journal } = setup(t);
  const build = () => [
    check('Confirm the backup is healthy', fakeCheck('backup', () => true)),
    step('Write a', fakeFileAction(dir, 'a')),
    parallel('Write b and c', [fakeFileAction(dir, 'b'), fakeFileAction(dir, 'c')]),
    step('Write d', fakeFileAction(dir, 'd')),
  ];
  const asked: [string, Change[]][] = [];
  const answers = (list: ConfirmAnswer[]) => async (s: Step, changes: readonly Change[]) => {
    asked.push([s.title, [...changes]]);
    return list.shift() ?? 'no';
  };
  const declined = await runRecovery({ scenario: scenarioOf(build), input, ctx: fakeContext(), mode: 'confirm', journal, confirm: answers(['yes', 'no']) });
  assert.equal(declined.outcome, 'aborted');
  assert.deepEqual(asked.map(([title]) => title), ['Write a', 'Write b and c']);
  assert.equal(asked[1]![1].length, 2, 'a group is confirmed once with all its changes');
  assert.deepEqual(declined.steps.map((s) => s.state), ['verified', 'verified', 'skipped', 'skipped', 'skipped', 'pending']);
  assert.deepEqual([...applicationCounts(dir).keys()], ['a']);

  asked.length = 0;
  const resumed = await runRecovery({ scenario: scenarioOf(build), input, ctx: fakeContext(), mode: 'confirm', journal, confirm: answers(['all']), resumeRunId: declined.id });
  assert.equal(resumed.outcome, 'recovered');
  assert.deepEqual(asked.map(([title]) => title), ['Write b and c']);
  assert.deepEqual([...applicationCounts(dir).values()], [1, 1, 1, 1]);
  await assert.rejects(runRecovery({ scenario: scenarioOf(build), input, ctx: fakeContext(), mode: 'confirm', journal }),
    (e: unknown) => e instanceof RecoveryError && e.code === 'confirm-missing');
});

test('the steps of a parallel group run at the same time', async (t) => {
  const { dir, journal } = setup(t);
  let started = 0;
  // Each waits (bounded) until the other has started: only possible when they overlap.
  const bothStarted = async () => {
    started++;
    for (let i = 0; i < 200 && started < 2; i++) await new Promise((r) => setTimeout(r, 5));
    if (started < 2) throw new Error('the sibling never started: steps ran one after the other');
  };
  const scenario = scenarioOf(() => [
    parallel('Write b and c', [fakeFileAction(dir, 'b', { during: bothStarted }), fakeFileAction(dir, 'c', { during: bothStarted })]),
  ]);
  const run = await runRecovery({ scenario, input, ctx: fakeContext(), mode: 'auto', journal });
  assert.equal(run.outcome, 'recovered', run.error ?? '');
});

test('resume after a failure skips verified steps and never applies them again', async (t) => {
  const { dir, journal } = setup(t);
  let broken = true;
  const scenario = scenarioOf(() => [
    step('Write a', fakeFileAction(dir, 'a')),
    parallel('Write b and c', [fakeFileAction(dir, 'b'), fakeFileAction(dir, 'c', { failApply: () => broken })]),
    step('Write d', fakeFileAction(dir, 'd', { withUndo: true })),
  ]);
  const failed = await runRecovery({ scenario, input, ctx: fakeContext(), mode: 'auto', journal });
  assert.equal(failed.outcome, 'failed');
  assert.deepEqual(failed.steps.map((s) => s.state), ['verified', 'failed', 'verified', 'failed', 'pending']);
  assert.equal(failed.steps[4]!.undoable, true);
  assert.equal(failed.steps[0]!.undoable, false);
  broken = false;
  const run = await runRecovery({ scenario, input: { failed: 'ignored' }, ctx: fakeContext(), mode: 'auto', journal, resumeRunId: failed.id.slice(0, 11) });
  assert.equal(run.id, failed.id);
  assert.equal(run.outcome, 'recovered');
  assert.deepEqual(run.input, input, 'resume uses the journaled input');
  assert.deepEqual(Object.fromEntries(applicationCounts(dir)), { a: 1, b: 1, c: 1, d: 1 });
  assert.ok(run.events.some((e) => e.event === 'run-resumed'));
  await assert.rejects(runRecovery({ scenario, input, ctx: fakeContext(), mode: 'auto', journal, resumeRunId: run.id }),
    (e: unknown) => e instanceof JournalError && e.code === 'not-resumable');
});

test('resume refuses a scenario whose steps changed since the run was journaled', async (t) => {
  const { dir, journal } = setup(t);
  const first = scenarioOf(() => [step('Write a', fakeFileAction(dir, 'a', { failApply: () => true }))]);
  const failed = await runRecovery({ scenario: first, input, ctx: fakeContext(), mode: 'auto', journal });
  const changed = scenarioOf(() => [step('Write z', fakeFileAction(dir, 'z'))]);
  await assert.rejects(runRecovery({ scenario: changed, input, ctx: fakeContext(), mode: 'auto', journal, resumeRunId: failed.id }),
    (e: unknown) => e instanceof RecoveryError && e.code === 'plan-changed' && e.exitCode === 2);
  await assert.rejects(runRecovery({ scenario: { ...first, name: 'other' }, input, ctx: fakeContext(), mode: 'auto', journal, resumeRunId: failed.id }),
    (e: unknown) => e instanceof RecoveryError && e.code === 'scenario-mismatch');
});

test('an abort signal stops the run before the next step', async (t) => {
  const { dir, journal } = setup(t);
  const controller = new AbortController();
  const scenario = scenarioOf(() => [
    step('Write a', fakeFileAction(dir, 'a', { hook: (m) => void (m === 'after-apply' && controller.abort()) })),
    step('Write b', fakeFileAction(dir, 'b')),
  ]);
  const run = await runRecovery({ scenario, input, ctx: fakeContext([], controller.signal), mode: 'auto', journal });
  assert.equal(run.outcome, 'aborted');
  assert.deepEqual(run.steps.map((s) => s.state), ['verified', 'pending']);
});

test('a step that outlives its time limit fails with code timeout and its signal aborts', async (t) => {
  const { dir, journal } = setup(t);
  let aborted = false;
  const hang = {
    ...fakeFileAction(dir, 'slow'),
    apply: (ctx: { signal?: AbortSignal }) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 5000);
        ctx.signal?.addEventListener('abort', () => ((aborted = true), clearTimeout(timer), resolve()));
      }).then(() => new Promise<void>(() => {})),
  };
  const scenario = scenarioOf(() => [step('Wait for a slow machine', hang, { timeoutMs: 50 }), step('Write b', fakeFileAction(dir, 'b'))]);
  const started = Date.now();
  const run = await runRecovery({ scenario, input, ctx: fakeContext(), mode: 'auto', journal });
  assert.ok(Date.now() - started < 2000);
  assert.equal(run.outcome, 'failed');
  assert.equal(run.steps[0]!.errorCode, 'timeout');
  assert.match(run.steps[0]!.error ?? '', /did not finish within 50 ms/);
  assert.equal(aborted, true);
  assert.equal(run.steps[1]!.state, 'pending');
});

test('resolve decides once from the fleet; a resumed run replays the journaled decision', async (t) => {
  const { dir, journal } = setup(t);
  let resolved = 0;
  let replicating = true;
  let broken = true;
  const scenario: Scenario<{ failed: string; mode?: string }> = {
    name: 'fake-down',
    describe: 'a fake failure',
    resolve: async (i) => (resolved++, { ...i, mode: replicating ? 'promote' : 'restore' }),
    build: (i) => [
      step(i.mode === 'promote' ? 'Promote the replica' : 'Load the newest dump', fakeFileAction(dir, 'db')),
      step('Write b', fakeFileAction(dir, 'b', { failApply: () => broken })),
    ],
  };
  const failed = await runRecovery({ scenario, input, ctx: fakeContext(), mode: 'auto', journal });
  assert.deepEqual(failed.input, { failed: 'primary', mode: 'promote' });
  // The promotion happened: asked again now, the fleet would say "no replica here".
  replicating = false;
  broken = false;
  const run = await runRecovery({ scenario, input, ctx: fakeContext(), mode: 'auto', journal, resumeRunId: failed.id });
  assert.equal(run.outcome, 'recovered');
  assert.equal(resolved, 1);
  assert.equal(run.steps[0]!.title, 'Promote the replica');
});
