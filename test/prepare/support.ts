/**
 * A two-machine fleet ("primary" at 127.0.0.1, "backup" at 127.0.0.2) over real MariaDB and
 * Redis servers listening on the same port at the two loopback addresses, as two machines
 * of a fleet would. Machines are reached with LocalRemote; secrets come from a map.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import type { ActionContext } from '../../src/actions/action.ts';
import { fleetSchema, type Fleet } from '../../src/fleet/schema.ts';
import { LocalRemote } from '../../src/remote/local.ts';
import { startMariadb, type MariadbServer } from '../support/mariadb.ts';

export const PRIMARY = '127.0.0.1';
export const BACKUP = '127.0.0.2';

export const SECRETS: Record<string, string> = {
  'env:APP_PW': 'apppw',
  'env:ADMIN_PW': `adm${Math.random().toString(36).slice(2)}`,
  'env:REPL_PW': `rep${Math.random().toString(36).slice(2)}`,
};

export interface TestFleetOptions {
  dbPort?: number;
  redisPort?: number;
  services?: Record<string, unknown>;
  backups?: Record<string, unknown>;
  sshPort?: number;
  /** Default 127.0.0.2; SSH tests put both machines on the test sshd's 127.0.0.1. */
  backupAddress?: string;
}

export function testFleet(o: TestFleetOptions = {}): Fleet {
  return fleetSchema.parse({
    version: 1,
    name: 'prep-test',
    // These "machines" share this one: TLS between machines is tested in the lab (test/prepare/lab-prepare.test.ts, the drills' wire capture).
    tls: { enabled: false },
    // Nor SSH between them: a seed is the logical one (the physical one replaces a whole
    // data folder, tested in the lab: test/drills), a copy is relayed.
    ssh: { ...(o.sshPort ? { port: o.sshPort } : {}), machineToMachine: false },
    machines: [
      { name: 'primary', address: PRIMARY, roles: ['db-primary', 'redis', 'upload', 'app'] },
      { name: 'backup', address: o.backupAddress ?? BACKUP, roles: ['db-replica', 'redis-replica', 'backup-store', 'app'] },
    ],
    services: o.services ?? {},
    ...(o.dbPort ? {
      database: {
        schema: 'speed', port: o.dbPort, user: 'speed', password: 'env:APP_PW',
        adminUser: 'lbadmin', adminPassword: 'env:ADMIN_PW', replicationUser: 'repl', replicationPassword: 'env:REPL_PW',
        domainTable: { name: 't_app_dns', domainColumn: 'domain', ipColumn: 'ip', statusColumn: 'status', online: 1, offline: 2 },
      },
    } : {}),
    ...(o.redisPort ? { redis: { port: o.redisPort } } : {}),
    ...(o.backups ? { backups: o.backups } : {}),
  });
}

export function testContext(fleet: Fleet, log: string[] = []): ActionContext {
  const remotes = new Map<string, LocalRemote>();
  return {
    fleet,
    remote: (m) => {
      if (!remotes.has(m)) remotes.set(m, new LocalRemote(m));
      return remotes.get(m)!;
    },
    secret: async (ref) => {
      const value = SECRETS[ref];
      if (value === undefined) throw new Error(`no test secret ${ref}`);
      return value;
    },
    log: (line) => log.push(line),
  };
}

const BINLOG = ['--log-bin=mysql-bin', '--gtid-strict-mode=ON', '--log-slave-updates=ON', '--binlog-format=ROW'];

/** Two MariaDB servers with binlogs on one port at 127.0.0.1 and 127.0.0.2, each with the fleet's admin account. */
export async function startMariadbPair(): Promise<{ primary: MariadbServer; backup: MariadbServer; port: number; stop(): Promise<void> }> {
  const primary = await startMariadb({ args: [...BINLOG, '--server-id=1'] });
  let backup: MariadbServer | undefined;
  try {
    backup = await startMariadb({ args: [...BINLOG, '--server-id=2', `--bind-address=${BACKUP}`, `--port=${primary.port}`] });
    for (const server of [primary, backup]) {
      const db = await mysql.createConnection({ socketPath: server.socket, user: 'root' });
      try {
        // Written to the binlog on purpose: each server starts with GTIDs of its own.
        await db.query("CREATE USER 'lbadmin'@'%' IDENTIFIED BY ?", [SECRETS['env:ADMIN_PW']]);
        await db.query("GRANT ALL PRIVILEGES ON *.* TO 'lbadmin'@'%' WITH GRANT OPTION");
      } finally {
        await db.end();
      }
    }
  } catch (error) {
    await backup?.stop();
    await primary.stop();
    throw error;
  }
  const b = backup;
  return { primary, backup: b, port: primary.port, stop: async () => { await Promise.allSettled([b.stop(), primary.stop()]); } };
}

export function connectAs(address: string, port: number, database?: string): Promise<mysql.Connection> {
  return mysql.createConnection({ host: address, port, user: 'lbadmin', password: SECRETS['env:ADMIN_PW'], connectTimeout: 2000, ...(database ? { database } : {}) });
}

export async function tempDir(prefix: string): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}
