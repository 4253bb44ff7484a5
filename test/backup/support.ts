/**
 * A small fleet on this computer for the backup tests: a real mariadbd as the primary, three
 * "stores" that are LocalRemotes writing into their own temp folders (the third off-site),
 * and a spare machine to restore onto.
 */
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ActionContext } from '../../src/actions/action.ts';
import { backupSettings, type BackupSettings } from '../../src/backup/settings.ts';
import { pidfileControl } from '../../src/backup/mariadb-local.ts';
import { fleetSchema, type Fleet } from '../../src/fleet/schema.ts';
import { LocalRemote } from '../../src/remote/local.ts';
import type { Remote } from '../../src/remote/remote.ts';
import type { MariadbServer } from '../support/mariadb.ts';

export const STORES = ['store-a', 'store-b', 'store-c'] as const;
export const KEY_REF = 'env:LIFEBOAT_TEST_BACKUP_KEY';

export function backupFleet(withReplica = false): Fleet {
  return fleetSchema.parse({
    version: 1,
    name: 'backup-test',
    // Its machines are folders of this one: copies between them are relayed, never sent over
    // SSH to this machine's own sshd (which would also touch its real authorized_keys).
    ssh: { machineToMachine: false },
    machines: [
      { name: 'db', address: '127.0.0.1', roles: ['db-primary'] },
      ...(withReplica ? [{ name: 'replica', address: '127.0.0.6', roles: ['db-replica' as const] }] : []),
      { name: 'store-a', address: '127.0.0.2', roles: ['backup-store'] },
      { name: 'store-b', address: '127.0.0.3', roles: ['backup-store'] },
      { name: 'store-c', address: '127.0.0.4', roles: ['backup-store'], offsite: true },
      { name: 'spare', address: '127.0.0.5', roles: ['spare'] },
    ],
    database: {
      schema: 'speed', user: 'speed', password: 'env:UNUSED', adminPassword: 'env:UNUSED', logTables: ['user_logs'],
      domainTable: { name: 't_app_dns', domainColumn: 'domain', ipColumn: 'ip', statusColumn: 'status', online: 1, offline: 2 },
    },
    backups: { stores: [...STORES], encryptionKey: KEY_REF, retention: { hourly: 24, daily: 7 } },
  });
}

export interface BackupWorld {
  fleet: Fleet;
  ctx: ActionContext;
  root: string;
  dumpDir: Record<string, string>;
  settings(overrides?: { retention?: { hourly: number; daily: number }; encryptionKey?: string | undefined }): BackupSettings;
  logs: string[];
  cleanup(): Promise<void>;
}

/** `remotes` replaces the LocalRemote of some machines (e.g. a store reached over real SSH). */
export async function backupWorld(
  server: MariadbServer,
  key: string,
  remotes: Record<string, Remote> = {},
  replica?: MariadbServer,
): Promise<BackupWorld> {
  const root = await mkdtemp(join(tmpdir(), 'lifeboat-backup-test-'));
  // mariadbd runs as mysql: the scratch folders below must be reachable for it.
  await chmod(root, 0o755);
  const dumpDir: Record<string, string> = {};
  const workDir: Record<string, string> = {};
  for (const m of ['db', 'replica', ...STORES, 'spare']) {
    dumpDir[m] = join(root, m, 'sql_backup');
    workDir[m] = join(root, m, 'work');
    await mkdir(workDir[m]!, { recursive: true, mode: 0o755 });
    await chmod(join(root, m), 0o755);
  }
  const fleet = backupFleet(replica !== undefined);
  const made = new Map<string, Remote>(Object.entries(remotes));
  const logs: string[] = [];
  const ctx: ActionContext = {
    fleet,
    remote(machine) {
      let r = made.get(machine);
      if (!r) made.set(machine, (r = new LocalRemote(machine)));
      return r;
    },
    async secret(ref) {
      if (ref === KEY_REF) return key;
      throw new Error(`unexpected secret ${ref}`);
    },
    log: (line) => logs.push(line),
  };
  // The test harness owns these servers' processes; backups never stop them.
  const local = (s: MariadbServer) => ({
    socket: s.socket, datadir: join(s.dir, 'data'), osUser: 'mysql',
    control: pidfileControl({ pidFile: join(s.dir, 'mysqld.pid'), socket: s.socket, start: 'false' }),
  });
  const mariadb = { db: local(server), ...(replica ? { replica: local(replica) } : {}) };
  return {
    fleet, ctx, root, dumpDir, logs,
    settings(overrides = {}) {
      const f: Fleet = {
        ...fleet,
        backups: {
          ...fleet.backups!,
          ...(overrides.retention ? { retention: overrides.retention } : {}),
          ...('encryptionKey' in overrides ? { encryptionKey: overrides.encryptionKey } : {}),
        },
      };
      return backupSettings(f, { dumpDir, workDir, mariadb });
    },
    async cleanup() {
      for (const r of made.values()) await r.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}
