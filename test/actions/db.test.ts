// Replication building blocks against two real mariadbd (test/support/mariadb.ts) on 127.0.0.1:
// a primary and a GTID replica, then the primary is stopped and the replica promoted.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { ActionError, renderChange } from '../../src/actions/action.ts';
import { gtidPosition, promoteReplica, replicaStatus, setReadOnly, waitForGtid } from '../../src/actions/db.ts';
import { replicateFrom } from '../../src/actions/db-rejoin.ts';
import type { Fleet } from '../../src/fleet/schema.ts';
import { startMariadb, type MariadbServer } from '../support/mariadb.ts';
import { localContext, testFleet, waitFor } from './support.ts';
import { adminAccount, type AdminAccount } from './support-db.ts';

const binlog = (id: number) => [`--server-id=${id}`, '--log-bin=mysql-bin', '--gtid-strict-mode=1', '--log-slave-updates=1', '--binlog-format=ROW'];

let primary: MariadbServer;
let replica: MariadbServer;
let primaryAdmin: AdminAccount;
let replicaAdmin: AdminAccount;
let onPrimary: Connection;
let onReplica: Connection;
const replPassword = `r${Math.random().toString(36).slice(2)}`;

/** Both servers are 127.0.0.1 but listen on different ports: one fleet per machine. */
function contextFor(server: MariadbServer, admin: AdminAccount) {
  const fleet: Fleet = testFleet({
    database: {
      schema: 'speed', port: server.port, user: 'speed', password: 'env:APP_PW', adminUser: admin.user, adminPassword: 'env:ADMIN_PW',
      replicationUser: 'repl', replicationPassword: 'env:REPL_PW',
      domainTable: { name: 't_app_dns', domainColumn: 'domain', ipColumn: 'ip', statusColumn: 'status', online: 1, offline: 2 },
    },
  });
  return localContext(fleet, { 'env:ADMIN_PW': admin.password, 'env:REPL_PW': replPassword });
}

async function count(db: Connection): Promise<number> {
  const [rows] = await db.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM speed.t');
  return Number(rows[0]?.n);
}

before(async () => {
  // One after the other: concurrent mariadb-install-db runs collide on temp tables in /tmp.
  primary = await startMariadb({ args: binlog(1) });
  replica = await startMariadb({ args: binlog(2) });
  [primaryAdmin, replicaAdmin] = await Promise.all([adminAccount(primary), adminAccount(replica)]);
  onPrimary = await primaryAdmin.root();
  onReplica = await replicaAdmin.root();
  // The servers' own set-up (accounts) went to their binlogs with their own server ids;
  // left there, gtid-strict-mode stops the replica at once (LAB-NOTES' GTID trap).
  for (const db of [onPrimary, onReplica]) {
    await db.query('SET SESSION sql_log_bin = 0');
    await db.query("CREATE USER 'repl'@'%' IDENTIFIED BY ?", [replPassword]);
    await db.query("GRANT REPLICATION SLAVE ON *.* TO 'repl'@'%'");
    await db.query('SET SESSION sql_log_bin = 1');
  }
  await onPrimary.query('RESET MASTER');
  await onReplica.query('RESET MASTER');
  await onReplica.query(
    "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=?, MASTER_USER=?, MASTER_PASSWORD=?, MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1",
    [primary.port, 'repl', replPassword],
  );
  await onReplica.query('START SLAVE');
  await onReplica.query('SET GLOBAL read_only = 1');
  await onPrimary.query('CREATE DATABASE speed');
  await onPrimary.query('CREATE TABLE speed.t (id INT PRIMARY KEY)');
  for (let i = 1; i <= 10; i++) await onPrimary.query('INSERT INTO speed.t VALUES (?)', [i]);
});
after(async () => {
  await onPrimary?.end().catch(() => undefined);
  await onReplica?.end().catch(() => undefined);
  await Promise.all([primary?.stop(), replica?.stop()]);
});

test('every query has a time-out: a hanging statement becomes an error, a caller that waits longer says so', async () => {
  const { connectMysql } = await import('../../src/remote/mysql-connect.ts');
  const { fleet } = contextFor(primary, primaryAdmin);
  const conn = await connectMysql(fleet, fleet.machines.find((m) => m.name === 'app')!, primaryAdmin.user, primaryAdmin.password, { connectTimeoutMs: 2000, queryTimeoutMs: 300 });
  try {
    const started = performance.now();
    await assert.rejects(conn.query('SELECT SLEEP(5)'), /timeout/i);
    assert.ok(performance.now() - started < 3000, 'the query was given up after its time-out, not after the sleep');
  } finally {
    conn.destroy();
  }
  const again = await connectMysql(fleet, fleet.machines.find((m) => m.name === 'app')!, primaryAdmin.user, primaryAdmin.password, { connectTimeoutMs: 2000, queryTimeoutMs: 300 });
  try {
    const [rows] = await again.query<RowDataPacket[]>({ sql: 'SELECT SLEEP(1) AS s', timeout: 5000 });
    assert.equal(Number(rows[0]?.s), 0, "a query's own longer time-out wins");
  } finally {
    await again.end();
  }
});

test('waitForGtid and replicaStatus see the replica catch up', async () => {
  const primaryCtx = contextFor(primary, primaryAdmin);
  const replicaCtx = contextFor(replica, replicaAdmin);
  const position = await gtidPosition(primaryCtx, 'app');
  assert.match(position, /^0-1-\d+$/);
  const wait = waitForGtid('app', position, 10);
  assert.equal(wait.mutating, false);
  await wait.apply(replicaCtx);
  await wait.verify(replicaCtx);
  assert.equal(await count(onReplica), 10);
  const status = await replicaStatus(replicaCtx, 'app');
  assert.equal(status.replicating, true);
  assert.equal(status.ioThread, 'running');
  assert.equal(status.sqlThread, 'running');
  assert.deepEqual(status.source, { host: '127.0.0.1', port: primary.port });
  assert.equal(status.readOnly, true);
  assert.equal(status.secondsBehind, 0);
  await assert.rejects(waitForGtid('app', '0-1-999999', 1).apply(replicaCtx), (e) => e instanceof ActionError && e.code === 'apply-failed');
});

test('promotion refuses while received transactions cannot be applied, and leaves replication as it was', async () => {
  const replicaCtx = contextFor(replica, replicaAdmin);
  // A row written on the replica behind replication's back makes the SQL thread fail.
  await onReplica.query('SET SESSION sql_log_bin = 0');
  await onReplica.query('INSERT INTO speed.t VALUES (1000)');
  await onPrimary.query('INSERT INTO speed.t VALUES (1000)');
  await waitFor(async () => (await replicaStatus(replicaCtx, 'app')).lastSqlError !== '');
  await assert.rejects(promoteReplica('app', { catchUpTimeoutS: 2 }).apply(replicaCtx), (e) =>
    e instanceof ActionError && e.code === 'apply-failed' && /not applied/.test(e.message) && !e.message.includes(replicaAdmin.password));
  const status = await replicaStatus(replicaCtx, 'app');
  assert.equal(status.replicating, true);
  assert.equal(status.readOnly, true);
  await waitFor(async () => (await replicaStatus(replicaCtx, 'app')).ioThread === 'running', 3000);
  await onReplica.query('DELETE FROM speed.t WHERE id = 1000');
  await onReplica.query('START SLAVE SQL_THREAD');
  await waitForGtid('app', await gtidPosition(contextFor(primary, primaryAdmin), 'app'), 10).apply(replicaCtx);
});

test('primary unreachable with transactions only in the replica relay log: promotion applies them all, then takes writes', async (t) => {
  const replicaCtx = contextFor(replica, replicaAdmin);
  // The SQL thread lags (stopped); the IO thread keeps receiving.
  await onReplica.query('STOP SLAVE SQL_THREAD');
  for (let i = 11; i <= 60; i++) await onPrimary.query('INSERT INTO speed.t VALUES (?)', [i]);
  const last = await gtidPosition(contextFor(primary, primaryAdmin), 'app');
  await waitFor(async () => (await replicaStatus(replicaCtx, 'app')).gtidReceived === last);
  // The primary becomes unreachable for the replica (kept running so it can rejoin later):
  // its account is locked and the replica's binlog dump connection is cut.
  await onPrimary.query('SET SESSION sql_log_bin = 0');
  await onPrimary.query("ALTER USER 'repl'@'%' ACCOUNT LOCK");
  const [dumps] = await onPrimary.query<RowDataPacket[]>("SELECT id FROM information_schema.processlist WHERE command LIKE 'Binlog Dump%'");
  for (const dump of dumps) await onPrimary.query('KILL ?', [dump.id]);
  await waitFor(async () => (await replicaStatus(replicaCtx, 'app')).ioThread === 'connecting');

  const action = promoteReplica('app', { catchUpTimeoutS: 10 });
  const plan = (await action.plan(replicaCtx)).map(renderChange).join('\n');
  assert.match(plan, /SQL thread|SQL stopped/);
  assert.match(plan, /\(50 transaction\(s\) to apply\)/);
  assert.match(plan, /RESET SLAVE ALL/);
  await assert.rejects(action.verify(replicaCtx), (e) => e instanceof ActionError && e.code === 'verify-failed');

  const started = performance.now();
  await action.apply(replicaCtx);
  await action.verify(replicaCtx);
  t.diagnostic(`promotion took ${Math.round(performance.now() - started)} ms`);
  assert.equal(await count(onReplica), 61, 'every received transaction was applied (10 + 1000 + 50)');
  await action.apply(replicaCtx); // interrupted and re-applied: a no-op
  await action.verify(replicaCtx);

  await onReplica.query('SET SESSION sql_log_bin = 1');
  await onReplica.query('INSERT INTO speed.t VALUES (61)');
  assert.equal((await replicaStatus(replicaCtx, 'app')).replicating, false);
});

test('setReadOnly switches read_only, verifies, and undo puts it back', async () => {
  const replicaCtx = contextFor(replica, replicaAdmin);
  const action = setReadOnly('app', true);
  assert.deepEqual((await action.plan(replicaCtx)).map(renderChange), ['[app] SQL SET GLOBAL read_only = ?  -- params: [1]']);
  await action.apply(replicaCtx);
  await action.verify(replicaCtx);
  await action.undo!(replicaCtx);
  await assert.rejects(action.verify(replicaCtx), (e) => e instanceof ActionError && e.code === 'verify-failed');
});

test('the old primary rejoins as a read-only replica of the promoted one and receives what it missed', async () => {
  const oldPrimaryCtx = contextFor(primary, primaryAdmin);
  const [before] = await onPrimary.query<RowDataPacket[]>('SELECT @@gtid_slave_pos AS p');
  // Never a replica: its gtid_slave_pos is empty and its history lives only in its binlog.
  // (Measured on MariaDB 10.11: this case also rejoins without the explicit SET that
  // replicateFrom does, so this test proves the rejoin, not the trap fix on its own; a
  // stale non-empty gtid_slave_pos cannot be staged here because strict mode refuses it.)
  assert.equal(before[0]?.p, '');
  const action = replicateFrom('app', 'app', { sourcePort: replica.port, verifyWithinS: 5 });
  const plan = (await action.plan(oldPrimaryCtx)).map(renderChange).join('\n');
  assert.match(plan, /SET GLOBAL gtid_slave_pos = @@gtid_binlog_pos/);
  assert.doesNotMatch(plan, new RegExp(replPassword));
  await action.apply(oldPrimaryCtx);
  await action.verify(oldPrimaryCtx);
  await waitFor(async () => (await count(onPrimary)) === 62);
  await action.apply(oldPrimaryCtx); // already replicating: nothing changes
  await action.verify(oldPrimaryCtx);
  const status = await replicaStatus(oldPrimaryCtx, 'app');
  assert.equal(status.readOnly, true);
  assert.equal(status.lastSqlError, '');
});
