/**
 * "Restore the database on the backup" (seed §4.3 step 3): a replica is promoted (nothing
 * acknowledged is lost); without one, the seed's way: the newest good dump. Which of the
 * two is decided once, before the run (`decideDatabaseUp` in a scenario's `resolve`), so a
 * resumed run does not mistake its own promotion for "no replica here".
 *
 * No error is a fact: a replica status that cannot be read stops the run; it never becomes
 * "no replica, load the dump" (which would overwrite a live replica).
 */
import type { Action, ActionContext } from '../actions/action.ts';
import { detachReplica, openForWrites, replicaStatus } from '../actions/db.ts';
import { machine as machineNamed } from '../fleet/model.ts';
import { DecisionError } from './errors.ts';
import { restoreNewestCopy } from './restore-dump.ts';
import { step, type ActionStep } from './step.ts';

/** What the replica had when the run was decided, for a promotion that may lose writes. */
export interface DataLossWindow {
  /** The last GTID the replica received from the old primary. */
  lastReceived: string;
  /** When its IO thread last failed, by the server's own record (null: not recorded). */
  receivingStoppedAt: string | null;
  /** Why receiving had stopped, as the server says. */
  why: string;
}

/** The replica as it was when the decision was taken: journaled with the run. */
export interface ReplicaSeen {
  receiving: 'running' | 'connecting' | 'stopped';
  applying: 'running' | 'stopped';
  gtidReceived: string;
  gtidApplied: string;
  lastIoErrorAt: string | null;
}

export type DatabaseUp =
  | { mode: 'promote'; acceptDataLoss: boolean; window?: DataLossWindow; seen?: ReplicaSeen }
  /** The heir has no replica to promote: the newest good copy is loaded. */
  | { mode: 'restore' };

export function describeWindow(machine: string, w: DataLossWindow): string {
  return `${machine} stopped receiving${w.receivingStoppedAt ? ` at ${w.receivingStoppedAt}` : ' (when: not recorded by the server)'}` +
    ` (${w.why}); the last transaction it received is ${w.lastReceived || '(none)'}. Every transaction the old primary committed after it is not on ${machine}`;
}

export async function decideDatabaseUp(ctx: ActionContext, machine: string, options: { acceptDataLoss?: boolean } = {}): Promise<DatabaseUp> {
  const m = machineNamed(ctx.fleet, machine);
  // A machine the fleet never made a database server has no replica to ask: the dump it is.
  if (!m.roles.some((r) => r === 'db-replica' || r === 'db-primary')) return { mode: 'restore' };
  let status;
  try {
    status = await replicaStatus(ctx, machine);
  } catch (cause) {
    throw new DecisionError(
      'state-unreadable',
      `cannot read the replication state of ${machine}'s MariaDB, so lifeboat cannot tell whether to promote it or load a dump; ` +
        `nothing was changed. Make its MariaDB answer to the admin account, then run again. (${(cause as Error).message})`,
      { cause },
    );
  }
  const acceptDataLoss = options.acceptDataLoss ?? false;
  if (!status.replicating) {
    // Already writable and not replicating: promoted earlier (a second run, a person). The
    // promotion is a no-op then; loading a dump over it would throw its writes away.
    if (!status.readOnly) return { mode: 'promote', acceptDataLoss };
    return { mode: 'restore' };
  }
  const seen: ReplicaSeen = {
    receiving: status.ioThread,
    applying: status.sqlThread,
    gtidReceived: status.gtidReceived,
    gtidApplied: status.gtidApplied,
    lastIoErrorAt: status.lastIoErrorAt ?? null,
  };
  const stopped = status.ioThread === 'stopped' || status.lastSqlError !== '';
  if (!stopped) return { mode: 'promote', acceptDataLoss, seen };
  const window: DataLossWindow = {
    lastReceived: status.gtidReceived,
    receivingStoppedAt: status.lastIoErrorAt ?? null,
    why: status.lastSqlError ? `SQL thread error: ${status.lastSqlError}` : status.lastIoError ? `IO thread stopped: ${status.lastIoError}` : 'IO thread stopped',
  };
  if (!acceptDataLoss) {
    throw new DecisionError(
      'data-at-risk',
      `${describeWindow(machine, window)}: promoting it would lose them. Nothing was changed. ` +
        'To promote it anyway and record this window (so that the old primary\'s extra transactions can be extracted when it returns), run again with --accept-data-loss.',
    );
  }
  return { mode: 'promote', acceptDataLoss: true, window, seen };
}

export function databaseUp(machine: string, decision: DatabaseUp): ActionStep {
  const action: Action = decision.mode === 'promote' ? openForWrites(machine, { acceptDataLoss: decision.acceptDataLoss }) : restoreNewestCopy(machine);
  return step(
    decision.mode === 'promote'
      ? `Bring the database up on ${machine}: promote its replica`
      : `Bring the database up on ${machine}: load the newest good dump (no replica to promote)`,
    action,
  );
}

/**
 * After a promotion, once users are served: the new primary drops its replication settings
 * (nothing the old primary might still send is applied). None after a restore.
 */
export function databaseDetached(machine: string, decision: DatabaseUp): ActionStep[] {
  if (decision.mode !== 'promote') return [];
  return [step(`Make ${machine}'s MariaDB forget the old primary`, detachReplica(machine))];
}
