// provisionMariadb against a real mariadbd on 127.0.0.1: a temp folder stands for the bare
// machine's /etc/mysql, /var/lib/mysql and /run/mysqld, and the fleet's `database.driver` is a
// `command` driver that starts mariadbd with that folder's my.cnf, as the lab's spares do.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ActionError } from '../../src/actions/action.ts';
import { driverFor } from '../../src/actions/drivers/index.ts';
import { provisionMariadb, type MariadbPaths } from '../../src/actions/provision/mariadb.ts';
import { selectRow } from '../../src/actions/provision/mariadb-client.ts';
import { LocalRemote } from '../../src/remote/local.ts';
import { freePort, localContext, testFleet } from '../actions/support.ts';

const SECRETS = {
  'env:DB_ADMIN': 'admin-Secret-1',
  // Quotes and a backslash: the statements are built with SQL string escaping, not pasted.
  'env:DB_APP': `app'pa"ss\\word`,
  'env:DB_REPL': 'repl-Secret-3',
};

let dir = '';
let paths: MariadbPaths;
let port = 0;

function fleet() {
  const pidFile = paths.pidFile;
  return testFleet({
    machines: [{ name: 'db1', address: '127.0.0.1', roles: ['spare'] }],
    database: {
      schema: 'speed',
      port,
      user: 'speed',
      password: 'env:DB_APP',
      adminUser: 'lifeboat_admin',
      adminPassword: 'env:DB_ADMIN',
      replicationUser: 'repl',
      replicationPassword: 'env:DB_REPL',
      driver: {
        type: 'command',
        start: `setsid -f mariadbd --defaults-file=${paths.etcDir}/my.cnf --user=mysql >>${dir}/mariadbd.log 2>&1 </dev/null`,
        stop: `p=$(cat ${pidFile}) && kill -TERM "$p" && i=0 && while kill -0 "$p" 2>/dev/null; do i=$((i+1)); [ $i -ge 300 ] && exit 1; sleep 0.1; done`,
        status: `p=$(cat ${pidFile} 2>/dev/null) && [ -n "$p" ] && kill -0 "$p" 2>/dev/null`,
      },
      domainTable: { name: 't_app_dns', domainColumn: 'domain', ipColumn: 'ip', statusColumn: 'status', online: 1, offline: 2 },
    },
  });
}

const SMALL = { 'innodb-buffer-pool-size': '32M', 'innodb-log-file-size': '16M' };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lifeboat-provision-db-'));
  await chmod(dir, 0o755); // mariadbd (user mysql) must reach its folders inside
  paths = { etcDir: join(dir, 'etc'), datadir: join(dir, 'data'), socket: join(dir, 'run', 'mysqld.sock'), pidFile: join(dir, 'run', 'mysqld.pid') };
  port = await freePort();
});

after(async () => {
  const pid = Number((await readFile(paths.pidFile, 'utf8').catch(() => '')).trim());
  if (pid > 0) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
    for (let i = 0; i < 100; i++) {
      try {
        process.kill(pid, 0);
      } catch {
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await rm(dir, { recursive: true, force: true });
});

test('provisionMariadb initialises, configures, starts and creates the accounts of a bare machine', async () => {
  const ctx = localContext(fleet(), SECRETS);
  const action = provisionMariadb('db1', { serverId: 21, role: 'primary', paths, settings: SMALL });

  const plan = await action.plan(ctx);
  const shown = JSON.stringify(plan);
  assert.match(shown, /mariadb-install-db --defaults-file=/);
  assert.match(shown, /CREATE USER IF NOT EXISTS \?@\? IDENTIFIED BY \?/);
  assert.match(shown, /\*\*\*/);
  for (const secret of Object.values(SECRETS)) assert.ok(!shown.includes(secret), 'the plan never shows a password');
  assert.match(shown, /server-id = 21/);
  await assert.rejects(readFile(join(paths.datadir, 'ibdata1')), { code: 'ENOENT' }, 'plan changed nothing');
  await assert.rejects(action.verify(ctx), (e) => e instanceof ActionError && e.code === 'verify-failed');

  await action.apply(ctx);
  await action.verify(ctx);
  for (const secret of Object.values(SECRETS)) assert.ok(!ctx.logs.join('\n').includes(secret), 'logs never hold a password');

  const remote = new LocalRemote('db1');
  // No GTID of its own: the accounts were created with sql_log_bin = 0.
  assert.deepEqual(await selectRow(remote, paths.socket, 'SELECT @@GLOBAL.gtid_binlog_pos, @@GLOBAL.read_only, @@GLOBAL.server_id'), ['', '0', '21']);
  assert.deepEqual(await selectRow(remote, paths.socket, "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'speed'"), ['1']);

  // Re-applying changes nothing and does not restart the server.
  const pidBefore = (await readFile(paths.pidFile, 'utf8')).trim();
  await action.apply(ctx);
  await action.verify(ctx);
  assert.equal((await readFile(paths.pidFile, 'utf8')).trim(), pidBefore);

  // A wrong password is caught by verify: it really logs in.
  const wrong = localContext(fleet(), { ...SECRETS, 'env:DB_APP': 'not-the-password' });
  await assert.rejects(action.verify(wrong), (e) => e instanceof ActionError && e.code === 'verify-failed' && /speed cannot log in/.test(e.message));
});

test('re-provisioning as a replica restarts with the new drop-in and turns read-only on', async () => {
  const ctx = localContext(fleet(), SECRETS);
  const replica = provisionMariadb('db1', { serverId: 22, role: 'replica', paths, settings: SMALL });
  const plan = JSON.stringify(await replica.plan(ctx));
  assert.match(plan, /-server-id = 21/);
  assert.match(plan, /\+server-id = 22/);
  await assert.rejects(replica.verify(ctx), (e) => e instanceof ActionError && /server_id is "21"/.test(e.message));
  await replica.apply(ctx);
  await replica.verify(ctx);
  assert.deepEqual(await selectRow(new LocalRemote('db1'), paths.socket, 'SELECT @@GLOBAL.read_only, @@GLOBAL.server_id, @@GLOBAL.gtid_strict_mode'), ['1', '22', '1']);
  assert.ok(ctx.logs.some((l) => /restarted/.test(l)));
});

test('a run that died after install-db (server stopped, drop-in gone) is completed by applying again', async () => {
  const ctx = localContext(fleet(), SECRETS);
  const action = provisionMariadb('db1', { serverId: 22, role: 'replica', paths, settings: SMALL });
  await driverFor('mariadb', fleet().database!.driver).stop(new LocalRemote('db1'));
  await rm(join(paths.etcDir, 'mariadb.conf.d', '60-lifeboat-base.cnf'));
  await assert.rejects(action.verify(ctx), (e) => e instanceof ActionError && /MariaDB is stopped/.test(e.message));
  const plan = JSON.stringify(await action.plan(ctx));
  assert.match(plan, /is already initialised/);
  await action.apply(ctx);
  await action.verify(ctx);
});
