/**
 * Where a backup is taken from: a healthy GTID replica (its SQL thread paused while both
 * copies and the counts are taken, so they agree exactly, then restarted), else the primary.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import mysql from 'mysql2/promise';
import { runBackup } from '../../src/backup/run.ts';
import { startMariadb, waitFor, type MariadbServer } from '../support/mariadb.ts';
import { backupWorld, type BackupWorld } from './support.ts';

const binlog = (id: number) => [`--server-id=${id}`, '--log-bin=mysql-bin', '--gtid-strict-mode=1', '--log-slave-updates=1', '--binlog-format=ROW'];

let primary: MariadbServer;
let replica: MariadbServer;
let world: BackupWorld;
let onPrimary: mysql.Connection;
let onReplica: mysql.Connection;

async function sqlThread(): Promise<string> {
  const [rows] = await onReplica.query<mysql.RowDataPacket[]>('SHOW SLAVE STATUS');
  return String(rows[0]?.Slave_SQL_Running);
}

before(async () => {
  // One after the other: concurrent mariadb-install-db runs collide on temp tables in /tmp.
  primary = await startMariadb({ args: binlog(1) });
  replica = await startMariadb({ args: binlog(2) });
  world = await backupWorld(primary, 'replica-test-key', {}, replica);
  onPrimary = await mysql.createConnection({ socketPath: primary.socket, user: 'root' });
  onReplica = await mysql.createConnection({ socketPath: replica.socket, user: 'root' });
  // Fresh, identical GTID histories (LAB-NOTES' gtid-strict-mode trap).
  await onPrimary.query('RESET MASTER');
  await onReplica.query('RESET MASTER');
  await onReplica.query(
    "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=?, MASTER_USER='root', MASTER_PASSWORD=?, MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1",
    [primary.port, primary.rootPassword],
  );
  await onReplica.query('START SLAVE');
  await onPrimary.query('CREATE DATABASE speed');
  await onPrimary.query('CREATE TABLE speed.users (id INT PRIMARY KEY)');
  await onPrimary.query('CREATE TABLE speed.user_logs (id INT PRIMARY KEY)');
  for (let i = 1; i <= 30; i++) await onPrimary.query('INSERT INTO speed.users VALUES (?)', [i]);
  await waitFor(async () => {
    const [rows] = await onReplica.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM speed.users');
    if (Number(rows[0]?.n) !== 30) throw new Error('not caught up');
  }, 20_000);
});

after(async () => {
  await onPrimary?.end().catch(() => undefined);
  await onReplica?.end().catch(() => undefined);
  await world?.cleanup();
  await replica?.stop();
  await primary?.stop();
});

test('a healthy replica is the source: exact counts at its GTID position, replication running again after', async () => {
  const [pos] = await onPrimary.query<mysql.RowDataPacket[]>('SELECT @@GLOBAL.gtid_current_pos AS p');
  const result = await runBackup(world.ctx, world.settings(), { keepAll: true });
  assert.equal(result.ok, true, JSON.stringify(result.shipped));
  assert.deepEqual(result.manifest.source, { machine: 'replica', role: 'db-replica', consistency: 'replica-paused' });
  for (const copy of result.manifest.copies) {
    assert.equal(copy.gtid, String(pos[0]?.p));
    assert.deepEqual(copy.tables, { users: 30, user_logs: 0 });
  }
  assert.equal(await sqlThread(), 'Yes');
});

test('a replica that stopped replicating is passed over for the primary', async () => {
  await onReplica.query('STOP SLAVE');
  try {
    const result = await runBackup(world.ctx, world.settings(), { kinds: ['logical'], keepAll: true, now: new Date(Date.now() + 2000) });
    assert.equal(result.ok, true);
    assert.deepEqual(result.manifest.source, { machine: 'db', role: 'db-primary', consistency: 'live' });
  } finally {
    await onReplica.query('START SLAVE');
  }
});
