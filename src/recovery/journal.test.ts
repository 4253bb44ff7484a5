import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { newRunId } from '../state/ids.ts';
import { MIGRATIONS, openState } from '../state/db.ts';
import { acknowledge, cooldown, lastAutomaticRecovery } from './cooldown.ts';
import { runRecovery } from './engine.ts';
import { fakeContext } from './fakes.ts';
import { Journal, JournalError, THIS_PROCESS } from './journal.ts';
import { step } from './step.ts';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'lifeboat-journal-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const emptyRun = { scenario: 'primary-down', input: { failed: 'primary' }, mode: 'auto' as const, steps: [] };

test('run ids are short, unique and sort by creation time', () => {
  const ids = Array.from({ length: 500 }, () => newRunId(1_790_000_000_000));
  assert.equal(new Set(ids).size, 500);
  assert.deepEqual([...ids].sort(), ids);
  assert.ok(ids.every((id) => /^[0-9a-z]{9}-[0-9a-z]{4}$/.test(id)));
  assert.ok(newRunId(1_790_000_000_000 + 10_000) > ids.at(-1)!);
});

test('the state file uses WAL, migrates once, and opens read-only without creating anything', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'nested', 'state.db');
  assert.throws(() => openState(path, { readonly: true }));
  assert.equal(existsSync(path), false);
  const db = openState(path);
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(db.pragma('user_version', { simple: true }), MIGRATIONS.length);
  db.close();
  const again = openState(path);
  assert.equal(again.pragma('user_version', { simple: true }), MIGRATIONS.length);
  again.close();
  const readonly = openState(path, { readonly: true });
  assert.deepEqual(readonly.prepare('SELECT count(*) AS n FROM runs').get(), { n: 0 });
  readonly.close();
});

test('runs are found by unique prefix; unknown and ambiguous prefixes are typed errors', (t) => {
  let now = 1_790_000_000_000;
  const journal = Journal.open(join(tempDir(t), 'state.db'), { now: () => now });
  t.after(() => journal.close());
  const a = journal.createRun(emptyRun);
  now += 86_400_000;
  const b = journal.createRun(emptyRun);
  assert.equal(journal.run(a.slice(0, 6)).id, a);
  assert.deepEqual(journal.runs().map((r) => r.id), [b, a]);
  assert.throws(() => journal.run('zzz'), (e: unknown) => e instanceof JournalError && e.code === 'run-not-found');
  assert.throws(() => journal.run(a.slice(0, 2)), (e: unknown) => e instanceof JournalError && e.code === 'run-ambiguous');
});

test('no secret reaches the state file, whatever an action puts in its changes, logs or errors', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'state.db');
  const journal = Journal.open(path);
  const secret = 'Tr0ub4dor-and-3';
  const leaky = {
    title: 'Point go-api at the backup database',
    machines: ['backup'],
    mutating: true,
    plan: async () => [
      { kind: 'file' as const, machine: 'backup', path: '/wwwroot/go/go-api/config.yaml',
        diff: `-  link: "mysql:speed:${secret}@tcp(10.0.0.1:3306)/speed"\n+  link: "mysql:speed:${secret}@tcp(127.0.0.1:3306)/speed"` },
      { kind: 'sql' as const, machine: 'backup', sql: 'ALTER USER speed IDENTIFIED BY ?', params: [secret] },
      { kind: 'command' as const, machine: 'backup', command: `MYSQL_PWD=${secret} mysql speed` },
    ],
    apply: async (ctx: { log(m: string): void }) => ctx.log(`connected with password=${secret}`),
    verify: async () => {
      throw new Error(`login failed for "speed:${secret}@tcp(127.0.0.1:3306)/speed"`);
    },
  };
  const run = await runRecovery({
    scenario: { name: 'leaky', describe: 'leaks', build: () => [step(leaky)] },
    input: { failed: 'primary', dbPassword: secret }, ctx: fakeContext(), mode: 'auto', journal,
  });
  assert.equal(run.outcome, 'failed');
  assert.match(run.steps[0]!.changes.map((c) => JSON.stringify(c)).join(), /127\.0\.0\.1:3306/);
  journal.db.pragma('wal_checkpoint(TRUNCATE)');
  journal.close();
  for (const name of readdirSync(dir)) {
    assert.equal(readFileSync(join(dir, name)).includes(secret), false, `${name} holds the secret`);
  }
});

test('cool-down: the last automatic run blocks the next one until it expires or a person acknowledges it', (t) => {
  let now = 1_790_000_000_000;
  const journal = Journal.open(join(tempDir(t), 'state.db'), { now: () => now });
  t.after(() => journal.close());
  assert.equal(lastAutomaticRecovery(journal), undefined);
  assert.deepEqual(cooldown(journal, now, 3_600_000), { blocked: false });
  journal.createRun({ ...emptyRun, automatic: true });
  now += 1000;
  const manual = journal.createRun(emptyRun);
  const last = lastAutomaticRecovery(journal);
  assert.notEqual(last?.id, manual);
  const verdict = cooldown(journal, now + 60_000, 3_600_000);
  assert.equal(verdict.blocked, true);
  assert.match(verdict.blocked ? verdict.message : '', /lifeboat runs ack/);
  assert.equal(cooldown(journal, now + 3_600_000, 3_600_000).blocked, false);
  acknowledge(journal, last!.id, 'alice', 'looked at it');
  assert.equal(cooldown(journal, now + 60_000, 3_600_000).blocked, false);
  assert.deepEqual(journal.run(last!.id).acknowledgements.map((a) => a.by), ['alice']);
});

test('a running run is resumed only when the process that ran it is gone', (t) => {
  const journal = Journal.open(join(tempDir(t), 'state.db'));
  t.after(() => journal.close());
  const id = journal.createRun(emptyRun);
  assert.equal(journal.run(id).owner, THIS_PROCESS);
  assert.deepEqual(journal.unfinishedRuns().map((r) => r.id), [id]);
  assert.throws(() => journal.reopenRun(id, 'auto'), (e: unknown) => e instanceof JournalError && e.code === 'run-active');
  // A pid above the kernel's pid_max cannot be alive.
  journal.db.prepare('UPDATE runs SET owner = ? WHERE id = ?').run(`${hostname()}:4194305`, id);
  journal.reopenRun(id, 'auto');
  assert.equal(journal.run(id).owner, THIS_PROCESS);
  journal.finishRun(id, 'recovered');
  assert.throws(() => journal.reopenRun(id, 'auto'), (e: unknown) => e instanceof JournalError && e.code === 'not-resumable');
});

test('a state file from an older lifeboat is migrated with its runs kept', (t) => {
  const path = join(tempDir(t), 'state.db');
  const old = new Database(path);
  old.exec(MIGRATIONS[0]!);
  old.pragma('user_version = 1');
  old.prepare(`INSERT INTO runs (id, scenario, input, mode, started_at) VALUES ('0old-run', 'edge-down', '{}', 'auto', 1)`).run();
  old.prepare(`INSERT INTO steps (run_id, idx, title, machines, mutating, undoable, state) VALUES ('0old-run', 0, 'Write a', '[]', 1, 1, 'verified')`).run();
  old.close();
  const journal = Journal.open(path);
  t.after(() => journal.close());
  assert.equal(journal.db.pragma('user_version', { simple: true }), MIGRATIONS.length);
  const run = journal.run('0old-run');
  assert.equal(run.owner, null);
  assert.deepEqual(run.steps.map((s) => s.state), ['verified']);
  journal.stepState('0old-run', 0, 'undone');
  assert.equal(journal.run('0old-run').steps[0]!.state, 'undone');
});

test('a run that changed something and stopped blocks new runs of its fleet until resumed or abandoned', (t) => {
  const journal = Journal.open(join(tempDir(t), 'state.db'));
  t.after(() => journal.close());
  const steps = [{ index: 0, parent: null, title: 'Promote', machines: ['backup'], mutating: true, undoable: false }];
  const refused = journal.createRun({ ...emptyRun, fleet: 'go-speed', steps });
  journal.finishRun(refused, 'failed', 'its checks failed');
  assert.deepEqual(journal.inProgress('go-speed'), [], 'a run that changed nothing blocks nothing');

  const stopped = journal.createRun({ ...emptyRun, fleet: 'go-speed', steps });
  journal.stepState(stopped, 0, 'applying', { start: true });
  journal.finishRun(stopped, 'failed', 'killed half-way');
  assert.deepEqual(journal.inProgress('go-speed').map((r) => r.id), [stopped]);
  assert.deepEqual(journal.inProgress('other-fleet'), []);

  journal.abandon(stopped, 'ops on call');
  assert.deepEqual(journal.inProgress('go-speed'), []);
  assert.equal(journal.run(stopped).outcome, 'abandoned');
  assert.throws(() => journal.reopenRun(stopped, 'auto'), (e: unknown) => e instanceof JournalError && e.code === 'not-resumable');
  assert.throws(() => journal.abandon(stopped, 'again'), (e: unknown) => e instanceof JournalError && e.code === 'not-resumable');
});

test('the journal is private: a folder it creates is 0700, the state file and its WAL 0600', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'made-here', 'deeper', 'state.db');
  const journal = Journal.open(path);
  t.after(() => journal.close());
  journal.createRun(emptyRun);
  const mode = (p: string) => statSync(p).mode & 0o777;
  assert.equal(mode(join(dir, 'made-here')), 0o700);
  assert.equal(mode(join(dir, 'made-here', 'deeper')), 0o700);
  assert.equal(mode(path), 0o600);
  assert.equal(mode(`${path}-wal`), 0o600);
  // An existing folder (like /tmp) is not changed.
  const shared = tempDir(t);
  chmodSync(shared, 0o755);
  Journal.open(join(shared, 'state.db')).close();
  assert.equal(mode(shared), 0o755);
});
