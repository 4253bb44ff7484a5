/**
 * Everything the backup code needs beyond the fleet file, resolved once: where copies live on
 * each store, how MariaDB is reached on each database machine, where work files go. Defaults
 * come from the fleet file and Debian's layout; tests and the bench override per machine
 * (several "stores" on one computer need different folders).
 */
import type { ActionContext } from '../actions/action.ts';
import type { Fleet, Machine } from '../fleet/schema.ts';
import { storesInService } from '../fleet/model.ts';
import { BackupError } from './errors.ts';
import { DEBIAN_DATADIR, DEBIAN_SOCKET, detectControl, type MariadbLocal } from './mariadb-local.ts';

export interface BackupSettings {
  schema: string;
  /** Log tables: logical dumps keep their schema, not their rows. */
  logTables: string[];
  stores: string[];
  retention: { hourly: number; daily: number };
  encryptionKey: string | undefined;
  dumpDir(store: string): string;
  /** Scratch space on a machine for copies in flight (same filesystem as nothing in particular). */
  workDir(machine: string): string;
  mariadb(ctx: ActionContext, machine: string): Promise<MariadbLocal>;
}

export interface SettingsOverrides {
  dumpDir?: Record<string, string>;
  workDir?: Record<string, string>;
  mariadb?: Record<string, MariadbLocal>;
}

export function backupSettings(fleet: Fleet, overrides: SettingsOverrides = {}): BackupSettings {
  const backups = fleet.backups;
  const database = fleet.database;
  if (!backups) throw new BackupError('not-configured', `fleet ${fleet.name} has no backups section`);
  if (!database) throw new BackupError('not-configured', `fleet ${fleet.name} has no database section`);
  for (const store of backups.stores) machineOf(fleet, store);
  const stores = storesInService(fleet);
  if (stores.length === 0) throw new BackupError('not-configured', `every backup store of fleet ${fleet.name} is down (${backups.stores.join(', ')}): bring one back or add one`);
  const detected = new Map<string, Promise<MariadbLocal>>();
  return {
    schema: database.schema,
    logTables: database.logTables,
    stores,
    retention: backups.retention,
    encryptionKey: backups.encryptionKey,
    dumpDir: (store) => overrides.dumpDir?.[store] ?? backups.dumpDir,
    workDir: (machine) => overrides.workDir?.[machine] ?? '/var/tmp',
    mariadb(ctx, machine) {
      const given = overrides.mariadb?.[machine];
      if (given) return Promise.resolve(given);
      let found = detected.get(machine);
      if (!found) {
        found = detectControl(ctx.remote(machine)).then((control) => ({
          socket: DEBIAN_SOCKET, datadir: DEBIAN_DATADIR, osUser: 'mysql', control,
        }));
        detected.set(machine, found);
      }
      return found;
    },
  };
}

export function machineOf(fleet: Fleet, name: string): Machine {
  const machine = fleet.machines.find((m) => m.name === name);
  if (!machine) throw new BackupError('not-configured', `backup store ${JSON.stringify(name)} is not a machine of fleet ${fleet.name}`);
  return machine;
}

export function isOffsite(fleet: Fleet, name: string): boolean {
  return machineOf(fleet, name).offsite;
}
