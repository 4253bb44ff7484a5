/**
 * MariaDB on db-primary and db-replica hosts: a fresh data folder per host, a small
 * per-host `99-lab.cnf` (GTID, binlog, a 32 MB buffer pool, 16 MB redo log), and the
 * accounts lifeboat expects, created over the socket with `sql_log_bin=0` so the hosts
 * start with empty, identical GTID histories. Replication itself is lifeboat's job
 * (`prepare`), not the lab's.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';
import { applySchema, seedDomains } from '../apps/schema.ts';
import { richVariantOf } from './standins.ts';
import { execChecked, pidAlive, waitTcp, type HostContext, type LabServer } from './context.ts';
import { putDir, putFile, seedFrom } from './files.ts';

function port(ctx: HostContext): number {
  return ctx.fleet.database?.port ?? 3306;
}

export function mariadbConfig(ctx: HostContext): string {
  const serverId = Number(ctx.host.address.split('.').pop());
  return `# Written by lifeboat's lab: one per host.
[mysqld]
bind-address = ${ctx.host.address}
port = ${port(ctx)}
server-id = ${serverId}
log-bin = mysql-bin
log-slave-updates = ON
binlog-format = ROW
gtid-strict-mode = ON
relay-log = relay-bin
skip-name-resolve
innodb-buffer-pool-size = 32M
innodb-log-file-size = 16M
# The data folder is a tmpfs: no O_DIRECT and no native AIO there.
innodb-flush-method = fsync
innodb-use-native-aio = 0
performance-schema = OFF
max-connections = 200
pid-file = /run/mysqld/mysqld.pid
socket = /run/mysqld/mysqld.sock
`;
}

async function createAccounts(ctx: HostContext): Promise<void> {
  const db = ctx.fleet.database;
  const socketPath = join(ctx.dir, 'run', 'mysqld', 'mysqld.sock');
  // The socket is a path on the machine too: root's unix_socket login works from here, and
  // mysql2 lets every statement take its values as parameters.
  const conn = await createConnection({ socketPath, user: 'root', connectTimeout: 5000 });
  try {
    const admin = db?.adminUser ?? 'root';
    const app = db?.user ?? 'lab';
    const repl = db?.replicationUser ?? 'repl';
    const schema = db?.schema ?? 'lab';
    await conn.query('SET SESSION sql_log_bin = 0');
    await conn.query('CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?', [admin, '%', ctx.secrets.dbAdminPassword]);
    await conn.query('ALTER USER ?@? IDENTIFIED BY ?', [admin, '%', ctx.secrets.dbAdminPassword]);
    await conn.query('GRANT ALL PRIVILEGES ON *.* TO ?@? WITH GRANT OPTION', [admin, '%']);
    await conn.query('CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?', [app, '%', ctx.secrets.dbAppPassword]);
    await conn.query('ALTER USER ?@? IDENTIFIED BY ?', [app, '%', ctx.secrets.dbAppPassword]);
    await conn.query(`GRANT ALL PRIVILEGES ON ${conn.escapeId(schema)}.* TO ?@?`, [app, '%']);
    await conn.query('CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?', [repl, '%', ctx.secrets.dbReplicationPassword]);
    await conn.query('ALTER USER ?@? IDENTIFIED BY ?', [repl, '%', ctx.secrets.dbReplicationPassword]);
    await conn.query('GRANT REPLICATION SLAVE, REPLICATION CLIENT, SLAVE MONITOR, BINLOG MONITOR ON *.* TO ?@?', [repl, '%']);
    const [rows] = await conn.query('SELECT COUNT(*) AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [schema]);
    const exists = ((rows as Array<{ n: number }>)[0]?.n ?? 0) > 0;
    if (!exists && db) {
      // Once, on both primary and replica, outside the binlog: the hosts start identical
      // with empty GTID histories. Later `lab up`s never touch the data again.
      const rich = Object.keys(ctx.fleet.services).some((s) => richVariantOf(ctx.fleet, s) !== undefined);
      await applySchema(conn, db, { rich });
      await seedDomains(conn, db, { machines: ctx.plan.hosts });
    }
    await conn.query('FLUSH PRIVILEGES');
  } finally {
    await conn.end();
  }
}

export const mariadb: LabServer = {
  name: 'mariadb',
  wants: (host) => host.roles.includes('db-primary') || host.roles.includes('db-replica'),
  async configure(ctx) {
    const etc = join(ctx.dir, 'etc-mysql');
    await seedFrom('/etc/mysql', etc);
    await putFile(join(etc, 'mariadb.conf.d', '99-lab.cnf'), mariadbConfig(ctx));
    await putDir(join(ctx.dir, 'var-lib-mysql'), { owner: 'mysql', mode: 0o750 });
    await putDir(join(ctx.dir, 'var-log', 'mysql'), { owner: 'mysql', mode: 0o750 });
    await putDir(join(ctx.dir, 'run', 'mysqld'), { owner: 'mysql', mode: 0o755 });
  },
  async running(ctx) {
    return (await ctx.exec(pidAlive('/run/mysqld/mysqld.pid'))).code === 0;
  },
  async start(ctx) {
    const install = existsSync(join(ctx.dir, 'var-lib-mysql', 'mysql'))
      ? ''
      : 'mariadb-install-db --user=mysql --skip-test-db --datadir=/var/lib/mysql >/var/log/mysql/install.log 2>&1; ';
    await execChecked(
      ctx,
      `${install}rm -f /run/mysqld/mysqld.pid /run/mysqld/mysqld.sock; install -d -o mysql -g mysql /run/mysqld; ` +
        `setsid -f /usr/sbin/mariadbd --user=mysql >>/var/log/mysql/mariadbd.log 2>&1 </dev/null; ` +
        `${waitTcp(ctx.host.address, port(ctx), 30_000)}; ` +
        `i=0; until [ -S /run/mysqld/mysqld.sock ]; do i=$((i+1)); [ $i -ge 200 ] && exit 1; sleep 0.05; done`,
      { timeoutMs: 60_000 },
    );
    await createAccounts(ctx);
  },
  async stop(ctx, how) {
    await ctx.exec(`p=$(cat /run/mysqld/mysqld.pid 2>/dev/null) && kill -${how === 'crash' ? 'KILL' : 'TERM'} "$p"`);
  },
};
