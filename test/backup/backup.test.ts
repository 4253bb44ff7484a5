/**
 * Backups against a real mariadbd and real mariadb-backup / mariadb-dump / zstd / openssl:
 * two backups shipped to three stores, then the newest copy is damaged on two of them (a
 * flipped byte, a truncation). `verifyBackups` must flag both, and the restore must pick the
 * newest good copy (here the encrypted off-site one) and bring back the manifest's rows.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, open, readFile, readdir, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { ActionError } from '../../src/actions/action.ts';
import { findNewestGoodCopy } from '../../src/backup/catalog.ts';
import { BackupError } from '../../src/backup/errors.ts';
import { parseManifest, type Manifest } from '../../src/backup/manifest.ts';
import { countRows } from '../../src/backup/mariadb-local.ts';
import { applyRetention } from '../../src/backup/retention.ts';
import { restoreCopy } from '../../src/backup/restore.ts';
import { runBackup } from '../../src/backup/run.ts';
import { createScratch, type Scratch } from '../../src/backup/scratch.ts';
import { verifyBackups } from '../../src/backup/verify.ts';
import { openFile, SealError } from '../../src/util/seal.ts';
import { startMariadb, type MariadbServer } from '../support/mariadb.ts';
import { backupWorld, type BackupWorld } from './support.ts';

const run = promisify(execFile);
const KEY = 'test-key-7f3a9c1e5b';
const FIRST = new Date('2026-03-01T10:00:00Z');
const SECOND = new Date('2026-03-01T11:00:00Z');
const FIRST_STAMP = '20260301T100000Z';
const SECOND_STAMP = '20260301T110000Z';

let server: MariadbServer;
let world: BackupWorld;
const scratches: Scratch[] = [];

before(async () => {
  server = await startMariadb();
  world = await backupWorld(server, KEY);
  const db = await server.connect();
  try {
    await db.query('CREATE DATABASE speed');
    await db.query('CREATE TABLE speed.users (id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(64)) ENGINE=InnoDB');
    await db.query('CREATE TABLE speed.user_logs (id BIGINT PRIMARY KEY AUTO_INCREMENT, user_id BIGINT, datestr VARCHAR(32), UNIQUE(user_id, datestr)) ENGINE=InnoDB');
    for (let i = 0; i < 50; i++) await db.query('INSERT INTO speed.users (name) VALUES (?)', [`user-${i}-secretvalue`]);
    for (let i = 0; i < 20; i++) await db.query('INSERT INTO speed.user_logs (user_id, datestr) VALUES (?, ?)', [i, '2026-03-01']);
  } finally {
    await db.end();
  }
});

after(async () => {
  for (const s of scratches) await s.destroy().catch(() => undefined);
  await server?.stop();
  await world?.cleanup();
});

function newestDir(store: string, stamp: string): string {
  return join(world.dumpDir[store]!, stamp);
}

async function manifestOn(store: string, stamp: string): Promise<Manifest> {
  return parseManifest(await readFile(join(newestDir(store, stamp), 'manifest.json'), 'utf8'), store);
}

test('a backup reaches every store, verified, with the manifest last and log tables as schema only', async () => {
  const result = await runBackup(world.ctx, world.settings(), { now: FIRST, keepAll: true });
  assert.equal(result.ok, true, JSON.stringify(result.shipped));
  assert.equal(result.source.role, 'db-primary');
  assert.equal(result.manifest.source.consistency, 'live');
  const physical = result.manifest.copies.find((c) => c.kind === 'physical')!;
  const logical = result.manifest.copies.find((c) => c.kind === 'logical')!;
  assert.deepEqual(physical.tables, { users: 50, user_logs: 20 });
  assert.equal(physical.prepared, true);
  assert.deepEqual(logical.schemaOnly, ['user_logs']);
  assert.equal(logical.file, `speed-${result.stamp}.sql.zst`);
  for (const store of ['store-a', 'store-b']) {
    assert.deepEqual((await readdir(newestDir(store, result.stamp))).sort(), ['manifest.json', logical.file, physical.file].sort());
  }
  // The dump holds user_logs' CREATE TABLE but none of its rows.
  const { stdout: sql } = await run('zstd', ['-dc', join(newestDir('store-a', result.stamp), logical.file)], { maxBuffer: 64 << 20 });
  assert.match(sql, /CREATE TABLE `user_logs`/);
  assert.doesNotMatch(sql, /INSERT INTO `user_logs`/);
  assert.match(sql, /INSERT INTO `users`/);
  // Nothing left behind on the source.
  assert.deepEqual(await readdir(join(world.root, 'db', 'work')), []);
  // Every row is in these files: stored copies 0600 in folders 0700, the manifest too.
  for (const store of ['store-a', 'store-b', 'store-c']) {
    const dir = newestDir(store, result.stamp);
    assert.equal((await stat(dir)).mode & 0o777, 0o700, `${dir}`);
    for (const f of await readdir(dir)) assert.equal((await stat(join(dir, f))).mode & 0o777, 0o600, `${store}/${f}`);
  }
});

test('the off-site copy is encrypted: unreadable without the key, readable with it', async () => {
  const stamp = '20260301T100000Z';
  const manifest = await manifestOn('store-c', stamp);
  assert.ok(manifest.copies.every((c) => c.encrypted && c.file.endsWith('.enc')));
  const logical = manifest.copies.find((c) => c.kind === 'logical')!;
  const path = join(newestDir('store-c', stamp), logical.file);
  const bytes = await readFile(path);
  assert.notDeepEqual([...bytes.subarray(0, 4)], [0x28, 0xb5, 0x2f, 0xfd], 'must not be a plain zstd frame');
  await assert.rejects(run('zstd', ['-t', path]));
  // Sealed on the operator's machine, authenticated: opens with the key only.
  assert.ok(manifest.copies.every((c) => c.cipher === 'lifeboat-seal-1'));
  await assert.rejects(openFile(path, join(world.root, 'opened-wrong.zst'), 'wrong-key'), (e: unknown) => e instanceof SealError && e.code === 'wrong-key-or-damaged');
  await openFile(path, join(world.root, 'opened.zst'), KEY);
  const right = await run('zstd', ['-dc', join(world.root, 'opened.zst')], { maxBuffer: 64 << 20 });
  assert.match(right.stdout, /user-7-secretvalue/);
  assert.equal((await stat(join(newestDir('store-c', stamp), 'manifest.json.mac'))).mode & 0o777, 0o600);
  // The key never reached a log line.
  assert.ok(world.logs.every((line) => !line.includes(KEY)));
});

test('verify flags a flipped byte and a truncation; a restore picks the newest good copy and matches its manifest', async () => {
  const db = await server.connect();
  try {
    for (let i = 0; i < 25; i++) await db.query('INSERT INTO speed.users (name) VALUES (?)', [`late-${i}`]);
  } finally {
    await db.end();
  }
  const second = await runBackup(world.ctx, world.settings(), { now: SECOND, keepAll: true });
  assert.equal(second.ok, true);
  const stamp = second.stamp;
  const physicalA = (await manifestOn('store-a', stamp)).copies.find((c) => c.kind === 'physical')!;
  const physicalB = (await manifestOn('store-b', stamp)).copies.find((c) => c.kind === 'physical')!;

  // Flip one byte in the middle of store-a's newest physical copy; cut store-b's in half.
  const pathA = join(newestDir('store-a', stamp), physicalA.file);
  const handle = await open(pathA, 'r+');
  try {
    const at = Math.floor(physicalA.bytes / 2);
    const one = Buffer.alloc(1);
    await handle.read(one, 0, 1, at);
    one[0] = one[0]! ^ 0xff;
    await handle.write(one, 0, 1, at);
  } finally {
    await handle.close();
  }
  assert.equal((await stat(pathA)).size, physicalA.bytes, 'same size, different content');
  await truncate(join(newestDir('store-b', stamp), physicalB.file), Math.floor(physicalB.bytes / 2));

  const report = await verifyBackups(world.ctx, world.settings(), { restoreKinds: ['physical', 'logical'] });
  const byStore = Object.fromEntries(report.stores.map((s) => [s.store, s.checked[0]!]));
  assert.equal(report.ok, false);
  assert.equal(byStore['store-a']!.stamp, stamp);
  assert.equal(byStore['store-a']!.health, 'corrupt');
  assert.equal(byStore['store-b']!.health, 'truncated');
  assert.equal(byStore['store-c']!.health, 'good');
  // The restore tests used good copies and both matched their manifests.
  assert.deepEqual(report.restoreTests.map((t) => [t.kind, t.ok, t.stamp]), [['physical', true, stamp], ['logical', true, stamp]], JSON.stringify(report.restoreTests));
  assert.equal(report.restoreTests[0]!.store, 'store-c');

  // The restore onto a spare machine's running server picks the newest good physical copy:
  // the encrypted off-site one, since the other two are damaged.
  const good = await findNewestGoodCopy(world.ctx, world.settings(), { kind: 'physical', preferStore: 'spare' });
  assert.equal(good.store, 'store-c');
  assert.equal(good.stamp, stamp);
  assert.deepEqual(good.skipped.map((s) => [s.store, s.health]).sort(), [['store-a', 'corrupt'], ['store-b', 'truncated']]);

  const target = await createScratch(world.ctx.remote('spare'), join(world.root, 'spare', 'work'), 'target');
  scratches.push(target);
  await target.initialize();
  const action = restoreCopy({ copy: good, to: 'spare', settings: world.settings(), target: target.local });
  const plan = (await action.plan(world.ctx)).map((c) => JSON.stringify(c)).join('\n');
  assert.ok(!plan.includes(KEY));
  await action.apply(world.ctx);
  await action.verify(world.ctx);
  const counts = await countRows(world.ctx.remote('spare'), target.local, 'speed');
  assert.deepEqual(counts, { users: 75, user_logs: 20 });
  assert.deepEqual(counts, good.copy.tables);
  assert.ok(action.outcome?.aside, 'the previous data folder is kept aside');

  // Without the key, the encrypted copy cannot be restored, and says why.
  const keyless = restoreCopy({ copy: good, to: 'spare', settings: world.settings({ encryptionKey: undefined }), target: target.local });
  await assert.rejects(keyless.apply(world.ctx), (e: unknown) => e instanceof BackupError && e.code === 'missing-key');

  // The logical copy restores user_logs as an empty table: no manual CREATE TABLE needed.
  const logical = await findNewestGoodCopy(world.ctx, world.settings(), { kind: 'logical' });
  assert.notEqual(logical.store, 'store-c', 'a plain store is preferred over the off-site one');
  const fresh = await createScratch(world.ctx.remote('spare'), join(world.root, 'spare', 'work'), 'fresh');
  scratches.push(fresh);
  await fresh.initialize();
  const load = restoreCopy({ copy: logical, to: 'spare', settings: world.settings(), target: fresh.local });
  await load.apply(world.ctx);
  await load.verify(world.ctx);
  assert.deepEqual(await countRows(world.ctx.remote('spare'), fresh.local, 'speed'), { users: 75, user_logs: 0 });

  // Undo of the physical restore brings the target's previous (empty) data back.
  await action.undo!(world.ctx);
  assert.deepEqual(await countRows(world.ctx.remote('spare'), target.local, 'speed'), {});
});

test('older good copies are chosen past damaged newer ones; none at all is an error with a code', async () => {
  const older = await findNewestGoodCopy(world.ctx, world.settings(), { kind: 'physical', stores: ['store-a', 'store-b'] });
  assert.equal(older.stamp, FIRST_STAMP);
  assert.deepEqual(older.skipped.map((s) => s.stamp), [SECOND_STAMP, SECOND_STAMP]);
  // Damaged after it was chosen: the restore checks again while unpacking and stops before
  // the target's data is touched.
  const target = await createScratch(world.ctx.remote('spare'), join(world.root, 'spare', 'work'), 'late-damage');
  scratches.push(target);
  await target.initialize();
  const late = join(newestDir(older.store, FIRST_STAMP), older.copy.file);
  const bytes = await readFile(late);
  bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 0x01;
  await writeFile(late, bytes);
  const action = restoreCopy({ copy: older, to: 'spare', settings: world.settings(), target: target.local });
  await assert.rejects(action.apply(world.ctx), (e: unknown) => e instanceof ActionError && /sha256/.test(String(e.message)));
  await run('mariadb-admin', [`--socket=${target.local.socket}`, '--user=root', 'ping']);
  await target.destroy();

  const first = (await manifestOn('store-b', FIRST_STAMP)).copies.find((c) => c.kind === 'physical')!;
  await truncate(join(newestDir('store-b', FIRST_STAMP), first.file), 10);
  await assert.rejects(
    findNewestGoodCopy(world.ctx, world.settings(), { kind: 'physical', stores: ['store-b'] }),
    (e: unknown) => e instanceof BackupError && e.code === 'no-good-copy',
  );
});

test('retention keeps the configured counts and drops stale incomplete folders', async () => {
  await mkdir(join(world.dumpDir['store-a']!, '20260301T090000Z'), { recursive: true });
  const plan = await applyRetention(world.ctx, world.settings({ retention: { hourly: 1, daily: 0 } }), 'store-a');
  assert.deepEqual(plan.keep, ['20260301T110000Z']);
  assert.deepEqual(plan.remove, ['20260301T090000Z', '20260301T100000Z']);
  assert.deepEqual(await readdir(world.dumpDir['store-a']!), ['20260301T110000Z']);
  const kept = await applyRetention(world.ctx, world.settings({ retention: { hourly: 1, daily: 7 } }), 'store-b');
  assert.deepEqual(kept.keep, ['20260301T110000Z']);
  assert.deepEqual(kept.remove, ['20260301T100000Z']);
});

test('work folders are private and fresh: a folder planted under the name a backup or restore would use is never entered', async () => {
  const stamp = '20260301T120000Z';
  const work = join(world.root, 'db', 'work');
  const spareWork = join(world.root, 'spare', 'work');
  // Another local user got there first, with the names the work folders used to have.
  const planted = [join(work, `lifeboat-backup-${stamp}-db`), join(spareWork, `lifeboat-restore-${stamp}-spare`)];
  for (const dir of planted) {
    await mkdir(dir, { recursive: true, mode: 0o777 });
    await writeFile(join(dir, 'planted'), 'x');
    await run('chown', ['-R', 'nobody:nogroup', dir]);
  }
  // Watch the work folders while the backup runs: each one made is 0700 and ours.
  const seen = new Map<string, number>();
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      for (const parent of [work, spareWork]) {
        for (const name of await readdir(parent).catch(() => [] as string[])) {
          const path = join(parent, name);
          if (planted.includes(path) || seen.has(path)) continue;
          const st = await stat(path).catch(() => undefined);
          if (st?.isDirectory()) seen.set(path, st.mode & 0o777);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  try {
    const result = await runBackup(world.ctx, world.settings(), { now: new Date('2026-03-01T12:00:00Z'), keepAll: true });
    assert.equal(result.ok, true, JSON.stringify(result.shipped));
    const good = await findNewestGoodCopy(world.ctx, world.settings(), { kind: 'logical', stores: ['store-a'] });
    const target = await createScratch(world.ctx.remote('spare'), spareWork, 'private-work');
    scratches.push(target);
    await target.initialize();
    const action = restoreCopy({ copy: good, to: 'spare', settings: world.settings(), target: target.local });
    await action.apply(world.ctx);
    await action.verify(world.ctx);
  } finally {
    watching = false;
    await watcher;
  }
  for (const dir of planted) assert.deepEqual(await readdir(dir), ['planted'], `${dir} was entered`);
  const made = [...seen].filter(([path]) => /^lifeboat-(backup|restore)-/.test(basename(path)));
  assert.ok(made.some(([p]) => basename(p).startsWith('lifeboat-backup-')) && made.some(([p]) => basename(p).startsWith('lifeboat-restore-')), `work folders seen: ${[...seen.keys()].join(', ')}`);
  for (const [path, mode] of made) assert.equal(mode, 0o700, `${path} mode ${mode.toString(8)}`);
  const scratch = [...seen].find(([p]) => basename(p).startsWith('lifeboat-scratch.'));
  assert.ok(scratch, 'the scratch server folder was seen');
});

test("an off-site manifest that was altered, lost its MAC or sits in another copy's folder is refused, never restored", async () => {
  const [newest, older] = (await readdir(world.dumpDir['store-c']!)).filter((n) => /^\d{8}T\d{6}Z$/.test(n)).sort().reverse();
  assert.ok(newest && older, 'two copies on the off-site store');
  const dir = newestDir('store-c', newest);
  const manifestFile = join(dir, 'manifest.json');
  const macFile = join(dir, 'manifest.json.mac');
  const original = await readFile(manifestFile, 'utf8');
  const mac = await readFile(macFile, 'utf8');
  const offsiteOnly = () => findNewestGoodCopy(world.ctx, world.settings(), { stores: ['store-c'] });
  assert.equal((await offsiteOnly()).stamp, newest, 'the untouched newest copy is chosen');
  try {
    // Row counts "corrected" to hide a loss: the MAC no longer matches.
    const altered = original.replace(/("tables": \{\s*"\w+": )(\d+)/, (_m, head: string, n: string) => `${head}${Number(n) + 1}`);
    assert.notEqual(altered, original);
    await writeFile(manifestFile, altered);
    let found = await offsiteOnly();
    assert.equal(found.stamp, older, 'the altered newest copy is passed over');
    assert.ok(found.skipped.some((s) => s.stamp === newest && s.health === 'tampered' && /MAC/.test(s.detail ?? '')), JSON.stringify(found.skipped));
    // No MAC at all.
    await writeFile(manifestFile, original);
    await rm(macFile);
    found = await offsiteOnly();
    assert.ok(found.skipped.some((s) => s.stamp === newest && s.health === 'tampered' && /no MAC/.test(s.detail ?? '')));
    // The older copy's manifest and MAC put in the newer folder: its own stamp gives it away.
    await writeFile(manifestFile, await readFile(join(newestDir('store-c', older), 'manifest.json'), 'utf8'));
    await writeFile(macFile, await readFile(join(newestDir('store-c', older), 'manifest.json.mac'), 'utf8'));
    found = await offsiteOnly();
    assert.ok(found.skipped.some((s) => s.stamp === newest && s.health === 'tampered' && /says it is copy/.test(s.detail ?? '')));
  } finally {
    await writeFile(manifestFile, original);
    await writeFile(macFile, mac);
  }
  assert.equal((await offsiteOnly()).stamp, newest);
});
