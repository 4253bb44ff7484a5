import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runRecovery } from './engine.ts';
import { RecoveryError } from './errors.ts';
import { fakeCheck, fakeContext, fakeFileAction } from './fakes.ts';
import { Journal, JournalError } from './journal.ts';
import { check, parallel, step, type Scenario } from './step.ts';
import { undoRun } from './undo.ts';

function setup(t: TestContext) {
  const dir = mkdtempSync(join(tmpdir(), 'lifeboat-undo-'));
  const journal = Journal.open(join(dir, 'state.db'));
  t.after(() => {
    journal.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, journal };
}

function scenario(dir: string, undoableB: boolean): Scenario {
  return {
    name: 'fake-down',
    describe: 'fake',
    build: () => [
      check('Confirm the backup is healthy', fakeCheck('backup', () => true)),
      step('Write a', fakeFileAction(dir, 'a', { withUndo: true })),
      parallel('Write b and c', [fakeFileAction(dir, 'b', { withUndo: undoableB }), fakeFileAction(dir, 'c', { withUndo: true })]),
      step('Write d', fakeFileAction(dir, 'd', { failApply: () => true, withUndo: true })),
    ],
  };
}

test('undo puts back every changed step, newest first, and ends the run as undone', async (t) => {
  const { dir, journal } = setup(t);
  const failed = await runRecovery({ scenario: scenario(dir, true), input: { failed: 'x' }, ctx: fakeContext(), mode: 'auto', journal });
  assert.equal(failed.outcome, 'failed');
  assert.ok(['a', 'b', 'c'].every((f) => existsSync(join(dir, f))));
  const run = await undoRun({ scenario: scenario(dir, true), ctx: fakeContext(), journal, runId: failed.id });
  assert.equal(run.outcome, 'undone');
  assert.ok(['a', 'b', 'c'].every((f) => !existsSync(join(dir, f))));
  assert.deepEqual(run.steps.map((s) => s.state), ['verified', 'undone', 'undone', 'undone', 'undone', 'undone']);
  const order = run.events.filter((e) => e.event === 'undone').map((e) => e.step);
  assert.deepEqual(order.slice(0, 4), [5, 4, 3, 1], 'newest step first');
  await assert.rejects(runRecovery({ scenario: scenario(dir, true), input: { failed: 'x' }, ctx: fakeContext(), mode: 'auto', journal, resumeRunId: run.id }),
    (e: unknown) => e instanceof JournalError && e.code === 'not-resumable');
});

test('undo refuses when a changed step cannot be undone, unless partial', async (t) => {
  const { dir, journal } = setup(t);
  const failed = await runRecovery({ scenario: scenario(dir, false), input: { failed: 'x' }, ctx: fakeContext(), mode: 'auto', journal });
  await assert.rejects(undoRun({ scenario: scenario(dir, false), ctx: fakeContext(), journal, runId: failed.id }),
    (e: unknown) => e instanceof RecoveryError && e.code === 'not-undoable' && /step 3\.1 "Write b"/.test(e.message));
  assert.ok(existsSync(join(dir, 'a')), 'a refused undo changes nothing');
  const run = await undoRun({ scenario: scenario(dir, false), ctx: fakeContext(), journal, runId: failed.id, partial: true });
  assert.equal(run.outcome, 'undone');
  assert.equal(existsSync(join(dir, 'b')), true);
  assert.equal(existsSync(join(dir, 'a')), false);
  assert.match(run.error ?? '', /1 step\(s\) could not be undone/);
});
