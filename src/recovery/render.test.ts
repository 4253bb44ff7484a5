import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runRecovery, type ProgressEvent } from './engine.ts';
import { fakeCheck, fakeContext, fakeFileAction } from './fakes.ts';
import { Journal } from './journal.ts';
import { formatDuration, progressPrinter, renderPlan, renderSummary, runToJson } from './render.ts';
import { check, parallel, step, type Scenario } from './step.ts';

function primaryDown(dir: string, broken: () => boolean): Scenario {
  return {
    name: 'primary-down',
    describe: 'the primary application server is lost',
    build: () => [
      check('Confirm the backup app server is healthy', fakeCheck('backup', () => true, 'backup')),
      step('Promote the replica on backup', fakeFileAction(dir, 'promoted', { machine: 'backup', withUndo: true })),
      parallel('Restart go-api, go-admin, go-fly', [
        fakeFileAction(dir, 'go-api', { machine: 'backup' }),
        fakeFileAction(dir, 'go-fly', { machine: 'backup', failVerify: broken }),
      ]),
    ],
    followUps: () => ['Find a new machine quickly, so the fleet is not left without a backup'],
  };
}

function setup(t: TestContext) {
  const dir = mkdtempSync(join(tmpdir(), 'lifeboat-render-'));
  const journal = Journal.open(join(dir, 'state.db'));
  t.after(() => {
    journal.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, journal };
}

test('durations read like the runbook output', () => {
  assert.equal(formatDuration(180), '0.18 s');
  assert.equal(formatDuration(12_345), '12.3 s');
  assert.equal(formatDuration(185_000), '3 min 05 s');
});

test('live progress prints one line per finished step with its time', async (t) => {
  const { dir, journal } = setup(t);
  let out = '';
  const printer = progressPrinter((text) => (out += text));
  const events: ProgressEvent[] = [];
  await runRecovery({
    scenario: primaryDown(dir, () => false), input: { failed: 'primary' }, ctx: fakeContext(), mode: 'auto', journal,
    onProgress: (e) => (events.push(e), printer(e)),
  });
  const lines = out.trimEnd().split('\n');
  assert.match(lines[0]!, /^Running primary-down \(auto\), run \S+$/);
  assert.match(lines[1]!, /^ {2}✓ +\d+\.\d\d s {2}Confirm the backup app server is healthy$/);
  assert.match(lines[2]!, /^ {2}✓ +\d+\.\d\d s {2}Promote the replica on backup$/);
  assert.match(lines[3]!, /^ {2}⇉ +Restart go-api, go-admin, go-fly \(in parallel\)$/);
  assert.match(lines[4]!, /^ {4}✓ +\d+\.\d\d s {2}Write go-(api|fly)$/);
  assert.match(lines.at(-1)!, /^ {2}✓ +\d+\.\d\d s {2}Restart go-api, go-admin, go-fly \(all\)$/);
});

test('the summary of a failed run names the step, what changed, resume and undo, but not the follow-ups of a recovery', async (t) => {
  const { dir, journal } = setup(t);
  const run = await runRecovery({ scenario: primaryDown(dir, () => true), input: { failed: 'primary' }, ctx: fakeContext(), mode: 'auto', journal });
  const text = renderSummary(run);
  assert.match(text, /^primary-down: FAILED in \d+\.\d\d s \(run \S+\)$/m);
  assert.match(text, /^Error: step 3\.2 "Write go-fly" failed: go-fly is not there$/m);
  assert.match(text, /^What changed:\n {2}\[backup\] edit .*promoted\n {2}\+promoted done\n/m);
  assert.doesNotMatch(text, /\+go-fly done/, 'a failed step did not change things for sure');
  assert.match(text, new RegExp(`lifeboat recover primary-down --resume ${run.id}`));
  assert.match(text, /^Steps that can be undone: 2$/m);
  // "Find a new machine" describes the fleet after a recovery; this one has not happened.
  assert.doesNotMatch(text, /What the operator still has to do/);
});

test('the summary of a recovered run ends with what the operator still has to do', async (t) => {
  const { dir, journal } = setup(t);
  const run = await runRecovery({ scenario: primaryDown(dir, () => false), input: { failed: 'primary' }, ctx: fakeContext(), mode: 'auto', journal });
  assert.equal(run.outcome, 'recovered');
  assert.match(renderSummary(run), /^What the operator still has to do:\n {2}- Find a new machine quickly/m);
});

test('the plan shows every change under its step, and the JSON form carries the same run', async (t) => {
  const { dir, journal } = setup(t);
  const run = await runRecovery({ scenario: primaryDown(dir, () => false), input: { failed: 'primary' }, ctx: fakeContext(), mode: 'plan', journal });
  const plan = renderPlan(run);
  assert.match(plan, /^ {2}1\. Confirm the backup app server is healthy {2}\(backup\) {2}\[check: passed\]$/m);
  assert.match(plan, /^ {2}2\. Promote the replica on backup {2}\(backup\)\n {5}\[backup\] edit .*promoted\n {5}\+promoted done$/m);
  assert.match(plan, /^ {4}3\.2\. Write go-fly/m);
  assert.match(renderSummary(run), /planned only, nothing applied/);
  const json = JSON.parse(JSON.stringify(runToJson(run))) as { outcome: string; steps: { state: string; changes: unknown[] }[] };
  assert.equal(json.outcome, 'planned');
  assert.equal(json.steps.length, 5);
  assert.deepEqual(json.steps.map((s) => s.changes.length), [1, 1, 0, 1, 1]);
});
