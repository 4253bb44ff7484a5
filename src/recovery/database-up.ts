/**
 * "Restore the database on the backup" (seed §4.3 step 3): a replica is promoted (nothing
 * acknowledged is lost); without one, the seed's way: the newest good dump. Which of the
 * two is decided once, before the run (`databaseUpMode` in a scenario's `resolve`), so a
 * resumed run does not mistake its own promotion for "no replica here".
 */
import type { Action, ActionContext } from '../actions/action.ts';
import { promoteReplica, replicaStatus } from '../actions/db.ts';
import { restoreNewestCopy } from './restore-dump.ts';
import { step, type ActionStep } from './step.ts';

export type DatabaseUpMode = 'promote' | 'restore';

export async function databaseUpMode(ctx: ActionContext, machine: string): Promise<DatabaseUpMode> {
  const status = await replicaStatus(ctx, machine).catch(() => undefined);
  return status?.replicating ? 'promote' : 'restore';
}

export function databaseUp(machine: string, mode: DatabaseUpMode): ActionStep {
  const action: Action = mode === 'promote' ? promoteReplica(machine) : restoreNewestCopy(machine);
  return step(
    mode === 'promote'
      ? `Bring the database up on ${machine}: promote its replica`
      : `Bring the database up on ${machine}: load the newest good dump (no replica to promote)`,
    action,
  );
}
