import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { runRecovery } from '../../recovery/engine.ts';
import { fakeContext, fakeFileAction } from '../../recovery/fakes.ts';
import { Journal } from '../../recovery/journal.ts';
import { step } from '../../recovery/step.ts';
import { UsageError } from '../exit.ts';
import { registerRuns } from './runs.ts';

/** Runs `lifeboat runs …` in-process and returns what it printed on stdout. */
async function lifeboat(...args: string[]): Promise<string> {
  const program = new Command('lifeboat').exitOverride();
  registerRuns(program);
  let out = '';
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string) => ((out += chunk), true)) as typeof process.stdout.write;
  try {
    await program.parseAsync(['node', 'lifeboat', ...args]);
  } finally {
    process.stdout.write = write;
  }
  return out;
}

async function recordedRun(t: TestContext) {
  const dir = mkdtempSync(join(tmpdir(), 'lifeboat-runs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const state = join(dir, 'state.db');
  const journal = Journal.open(state);
  const run = await runRecovery({
    scenario: { name: 'edge-down', describe: 'an edge is lost', build: () => [step('Write a', fakeFileAction(dir, 'a'))] },
    input: { failed: 'edge1' }, ctx: fakeContext(), mode: 'auto', journal,
  });
  journal.close();
  return { dir, state, run };
}

test('runs lists runs, as text and as JSON', async (t) => {
  const { state, run } = await recordedRun(t);
  assert.match(await lifeboat('runs', '--state', state), new RegExp(`^${run.id} +\\S+ \\S+ +edge-down +auto +recovered +\\d`, 'm'));
  const json = JSON.parse(await lifeboat('runs', 'list', '--json', '--state', state)) as { id: string; startedAt: string }[];
  assert.equal(json[0]!.id, run.id);
  assert.match(json[0]!.startedAt, /^\d{4}-\d\d-\d\dT/);
});

test('runs show prints one run by id prefix; an unknown id is a usage error', async (t) => {
  const { state, run } = await recordedRun(t);
  const text = await lifeboat('runs', 'show', run.id.slice(0, 9), '--state', state);
  assert.match(text, /^edge-down: recovered in/m);
  assert.match(text, /^Events:$/m);
  const json = JSON.parse(await lifeboat('runs', 'show', run.id, '--json', '--state', state)) as { steps: { state: string }[] };
  assert.deepEqual(json.steps.map((s) => s.state), ['verified']);
  await assert.rejects(lifeboat('runs', 'show', 'nope', '--state', state), UsageError);
});

test('runs ack records who acknowledged; listing a missing state file creates nothing', async (t) => {
  const { dir, state, run } = await recordedRun(t);
  assert.match(await lifeboat('runs', 'ack', run.id, '--by', 'alice', '--state', state), /acknowledged by alice/);
  assert.match(await lifeboat('runs', 'show', run.id, '--state', state), /^Acknowledged by alice at /m);
  const missing = join(dir, 'missing.db');
  assert.equal(await lifeboat('runs', '--state', missing), 'No recovery runs recorded.\n');
  assert.equal(existsSync(missing), false);
});

test('runs undo asks first (refused off a terminal) and says so when a run changed nothing', async (t) => {
  const { dir, state, run } = await recordedRun(t);
  await assert.rejects(lifeboat('runs', 'undo', run.id, '--state', state), (e: unknown) => e instanceof UsageError && /--yes/.test(e.message));
  const journal = Journal.open(state);
  const planned = await runRecovery({
    scenario: { name: 'edge-down', describe: 'an edge is lost', build: () => [step('Write b', fakeFileAction(dir, 'b'))] },
    input: { failed: 'edge1' }, ctx: fakeContext(), mode: 'plan', journal,
  });
  journal.close();
  assert.match(await lifeboat('runs', 'undo', planned.id, '--state', state), /changed nothing: nothing to undo/);
});
