/**
 * An old primary's own transactions, against two real MariaDB servers on loopback
 * (test/prepare/support.ts): "primary" writes, "backup" replicates, the link stops, primary
 * writes three more rows, backup is promoted and writes on. The three are named and
 * extracted, each once; a server whose writes all reached the other has nothing to extract.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type mysql from 'mysql2/promise';
import { extractOwnTransactions, readDivergence, readExtractRecord, recordFileOf } from '../../src/actions/db-divergence.ts';
import { BACKUP, connectAs, PRIMARY, SECRETS, startMariadbPair, tempDir, testContext, testFleet } from '../prepare/support.ts';

let pair: Awaited<ReturnType<typeof startMariadbPair>>;
let onPrimary: mysql.Connection;
let onBackup: mysql.Connection;
let work: Awaited<ReturnType<typeof tempDir>>;

const one = async (db: mysql.Connection, sql: string) => {
  const [rows] = await db.query<mysql.RowDataPacket[]>(sql);
  return String(Object.values(rows[0] ?? {})[0] ?? '');
};

before(async () => {
  pair = await startMariadbPair();
  work = await tempDir('lifeboat-divergence-');
  onPrimary = await connectAs(PRIMARY, pair.port);
  onBackup = await connectAs(BACKUP, pair.port);
  await onPrimary.query("CREATE USER 'repl'@'%' IDENTIFIED BY ?", [SECRETS['env:REPL_PW']]);
  await onPrimary.query("GRANT REPLICATION SLAVE ON *.* TO 'repl'@'%'");
  // backup follows primary from where primary is now (both made their own accounts already).
  await onBackup.query('RESET MASTER');
  await onBackup.query('SET GLOBAL gtid_slave_pos = ?', [await one(onPrimary, 'SELECT @@gtid_binlog_pos')]);
  await onBackup.query('CHANGE MASTER TO MASTER_HOST = ?, MASTER_PORT = ?, MASTER_USER = ?, MASTER_PASSWORD = ?, MASTER_USE_GTID = slave_pos', [PRIMARY, pair.port, 'repl', SECRETS['env:REPL_PW']]);
  await onBackup.query('START SLAVE');
  await onPrimary.query('CREATE DATABASE speed');
  await onPrimary.query('CREATE TABLE speed.t (id INT PRIMARY KEY, note VARCHAR(40))');
  await onPrimary.query("INSERT INTO speed.t VALUES (1, 'both'), (2, 'both')");
  assert.equal(await one(onBackup, `SELECT MASTER_GTID_WAIT('${await one(onPrimary, 'SELECT @@gtid_binlog_pos')}', 20)`), '0');
});
after(async () => {
  await onPrimary?.end();
  await onBackup?.end();
  await pair?.stop();
  await work?.remove();
});

test('with every write replicated, the old primary is a prefix of the live one: nothing to extract, and that is recorded', async () => {
  await onBackup.query('STOP SLAVE');
  const ctx = testContext(testFleet({ dbPort: pair.port }));
  const d = await readDivergence(ctx, 'primary', 'backup');
  assert.equal(d.kind, 'prefix', d.detail);
  const file = join(work.dir, 'prefix', 'primary.sql');
  const action = extractOwnTransactions('primary', 'backup', file);
  await action.apply(ctx);
  await action.verify(ctx);
  const record = await readExtractRecord(file);
  assert.equal(record?.kind, 'prefix');
  await assert.rejects(stat(file), /ENOENT/, 'no extract when nothing is missing');
  await onBackup.query('START SLAVE');
});

test("the old primary's writes after the link stopped are named, extracted each once, private, and the record says which", async () => {
  await onBackup.query('STOP SLAVE');
  for (const id of [3, 4, 5]) await onPrimary.query('INSERT INTO speed.t VALUES (?, ?)', [id, `only-on-old-${id}`]);
  const oldPos = await one(onPrimary, 'SELECT @@gtid_binlog_pos');
  // backup becomes the primary and writes on: its own GTIDs continue domain 0.
  await onBackup.query('RESET SLAVE ALL');
  await onBackup.query("INSERT INTO speed.t VALUES (100, 'new-primary')");
  const ctx = testContext(testFleet({ dbPort: pair.port }));
  const d = await readDivergence(ctx, 'primary', 'backup');
  assert.ok(d.kind === 'extra', d.detail);
  assert.equal(d.count, 3n);
  assert.equal(`0-1-${d.ranges[0]!.upTo}`, oldPos);

  const file = join(work.dir, 'extra', 'primary.sql');
  const action = extractOwnTransactions('primary', 'backup', file);
  assert.match((await action.plan(ctx)).map((c) => ('text' in c ? c.text : '')).join('\n'), /3 transaction\(s\) of its own/);
  await action.apply(ctx);
  await action.verify(ctx);
  const text = await readFile(file, 'utf8');
  for (const id of [3, 4, 5]) assert.match(text, new RegExp(`only-on-old-${id}`), `row ${id} is in the extract`);
  assert.doesNotMatch(text, /'both'|new-primary/, 'nothing the live primary has');
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  assert.equal((await stat(join(work.dir, 'extra'))).mode & 0o777, 0o700);
  const record = await readExtractRecord(file);
  assert.equal(record?.transactions, 3);
  assert.equal(record?.kind, 'extra');

  // A damaged extract is found by verify; apply makes it again, whole.
  await import('node:fs/promises').then((fs) => fs.writeFile(file, text.replace(/only-on-old-4/, 'changed-on-disk')));
  await assert.rejects(action.verify(ctx), /SHA-256 differs/);
  await action.apply(ctx);
  await action.verify(ctx);
  assert.match(await readFile(recordFileOf(file), 'utf8'), /"kind": "extra"/);
});
