/**
 * Which machine a backup is taken from: a healthy replica when the fleet has one (the primary
 * keeps serving undisturbed), else the primary.
 */
import type { ActionContext } from '../actions/action.ts';
import { BackupError } from './errors.ts';
import { replicaHealthy } from './mariadb-local.ts';
import type { BackupSettings } from './settings.ts';

export interface BackupSource {
  machine: string;
  role: 'db-replica' | 'db-primary';
  /** Why this one, for the log and the manifest reader. */
  reason: string;
}

export async function chooseSource(ctx: ActionContext, settings: BackupSettings): Promise<BackupSource> {
  const replicas = ctx.fleet.machines.filter((m) => m.roles.includes('db-replica'));
  const notes: string[] = [];
  for (const replica of replicas) {
    try {
      const local = await settings.mariadb(ctx, replica.name);
      if (await replicaHealthy(ctx.remote(replica.name), local)) {
        return { machine: replica.name, role: 'db-replica', reason: `replica ${replica.name} is replicating and current` };
      }
      notes.push(`replica ${replica.name} is not replicating or lags`);
    } catch (error) {
      notes.push(`replica ${replica.name} unreachable (${(error as Error).message})`);
    }
  }
  const primary = ctx.fleet.machines.find((m) => m.roles.includes('db-primary'));
  if (!primary) throw new BackupError('not-configured', `fleet ${ctx.fleet.name} has no db-primary machine to back up`);
  const why = replicas.length === 0 ? 'the fleet has no replica' : notes.join('; ');
  return { machine: primary.name, role: 'db-primary', reason: `primary ${primary.name}: ${why}` };
}
