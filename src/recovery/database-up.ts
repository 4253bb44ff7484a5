/**
 * "Restore the database on the backup" (seed §4.3 step 3), decided from what the machine
 * is right now: a replica is promoted (nothing acknowledged is lost); a machine already
 * serving as a writable primary is left as it is (a resumed run finds it so); anything
 * else gets the newest verified dump. Decided again at every plan, so resume is safe.
 */
import { ActionError, type Action, type ActionContext, type Change } from '../actions/action.ts';
import { promoteReplica, replicaStatus, type ReplicaStatus } from '../actions/db.ts';
import { withAdmin } from '../actions/db-connection.ts';
import type { RowDataPacket } from 'mysql2/promise';

export type DatabaseUpMode = 'promote' | 'already-primary' | 'restore';

async function schemaExists(ctx: ActionContext, machine: string): Promise<boolean> {
  const schema = ctx.fleet.database?.schema ?? '';
  return withAdmin(ctx, machine, async (db) => {
    const [rows] = await db.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?', [schema]);
    return Number(rows[0]?.n) > 0;
  });
}

export async function databaseUpMode(ctx: ActionContext, machine: string): Promise<{ mode: DatabaseUpMode; status?: ReplicaStatus; why: string }> {
  let status: ReplicaStatus;
  try {
    status = await replicaStatus(ctx, machine);
  } catch (error) {
    return { mode: 'restore', why: `MariaDB on ${machine} does not answer (${(error as Error).message})` };
  }
  if (status.replicating) return { mode: 'promote', status, why: `${machine} is a replica` };
  if (!status.readOnly && (await schemaExists(ctx, machine).catch(() => false))) {
    return { mode: 'already-primary', status, why: `${machine} is already a writable primary with the ${ctx.fleet.database?.schema} schema` };
  }
  return { mode: 'restore', status, why: `${machine} is not a replica and holds no live ${ctx.fleet.database?.schema} schema` };
}

/** `restore` is the action used when there is no replica to promote (a dump restore). */
export function databaseUp(machine: string, restore: (ctx: ActionContext) => Action): Action {
  const promote = promoteReplica(machine);
  const chosen = new Map<DatabaseUpMode, Action>();
  const actionFor = (ctx: ActionContext, mode: DatabaseUpMode): Action | undefined => {
    if (mode === 'already-primary') return undefined;
    if (!chosen.has(mode)) chosen.set(mode, mode === 'promote' ? promote : restore(ctx));
    return chosen.get(mode);
  };
  let decided: DatabaseUpMode | undefined;
  return {
    title: `Bring the database up on ${machine}`,
    machines: [machine],
    mutating: true,
    async plan(ctx): Promise<Change[]> {
      const { mode, why } = await databaseUpMode(ctx, machine);
      decided = mode;
      const action = actionFor(ctx, mode);
      const head: Change = { kind: 'note', machine, text: `${why}: ${mode === 'promote' ? 'promote it' : mode === 'restore' ? 'load the newest good dump' : 'nothing to do'}` };
      return [head, ...(action ? await action.plan(ctx) : [])];
    },
    async apply(ctx) {
      const mode = decided ?? (await databaseUpMode(ctx, machine)).mode;
      decided = mode;
      await actionFor(ctx, mode)?.apply(ctx);
    },
    async verify(ctx) {
      const mode = decided ?? (await databaseUpMode(ctx, machine)).mode;
      const action = actionFor(ctx, mode);
      if (action) return action.verify(ctx);
      const now = await databaseUpMode(ctx, machine);
      if (now.mode !== 'already-primary') throw new ActionError('verify-failed', `the database on ${machine} is not up as a primary: ${now.why}`);
    },
  };
}
