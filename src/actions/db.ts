/**
 * MariaDB replication building blocks for the runbook (§4.3 step 3): promote the replica
 * without losing what it already received, switch read_only, wait for a GTID position.
 */
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { ActionError, type Action, type ActionContext, type Change } from './action.ts';
import { asActionError } from './action-errors.ts';
import { connectAdmin, withAdmin, type DbConnectOptions } from './db-connection.ts';
import { gtidCovers, gtidGap } from './gtid.ts';
import { readReplicaStatus, requireMariadb, type ReplicaStatus } from './replica-status.ts';

export { replicaStatus, type ReplicaStatus } from './replica-status.ts';
export { replicateFrom, type ReplicateFromOptions } from './db-rejoin.ts';

export interface PromoteOptions extends DbConnectOptions {
  /** How long the SQL thread may take to apply what was received. Default 30 s. */
  catchUpTimeoutS?: number;
  /**
   * Promote even when the relay log cannot be fully applied (SQL thread error or time-out).
   * Transactions the old primary acknowledged can be lost: only for a person to decide.
   */
  acceptDataLoss?: boolean;
}

function describeStatus(s: ReplicaStatus): string {
  if (!s.replicating) return `${s.machine} is not a replica; read_only=${s.readOnly ? 1 : 0}`;
  const gap = gtidGap(s.gtidApplied, s.gtidReceived);
  return `${s.machine} replicates from ${s.source ? `${s.source.host}:${s.source.port}` : '?'}: IO ${s.ioThread}, SQL ${s.sqlThread}, received ${s.gtidReceived || '(none)'}, applied ${s.gtidApplied || '(none)'}${gap > 0n ? ` (${gap} transaction(s) to apply)` : ''}${s.lastSqlError ? `, SQL error: ${s.lastSqlError}` : ''}`;
}

async function waitApplied(db: Connection, gtid: string, timeoutS: number): Promise<boolean> {
  if (gtid === '') return true;
  // The statement waits up to timeoutS by design: its own query time-out leaves it that long.
  const [rows] = await db.query<RowDataPacket[]>({ sql: 'SELECT MASTER_GTID_WAIT(?, ?) AS r', timeout: (timeoutS + 30) * 1000 }, [gtid, timeoutS]);
  return Number(rows[0]?.r) === 0;
}

/**
 * How long `STOP SLAVE IO_THREAD` may take before the promotion stops waiting for it. On a
 * live link it returns at once; on a dead one MariaDB re-sends its kill every 2 s and the
 * statement takes ~2 s (measured in the lab), while the stuck thread can no longer queue an
 * event: the kill flag is set the moment the statement arrives.
 */
const IO_STOP_GRACE_MS = 100;

/** Sends STOP SLAVE IO_THREAD on a connection of its own; resolves true if it returned within the grace. */
async function stopReceiving(ctx: ActionContext, machine: string, options: DbConnectOptions): Promise<boolean> {
  const db = await connectAdmin(ctx, machine, options);
  const close = () => db.end().catch(() => db.destroy());
  const stopping = db.query('STOP SLAVE IO_THREAD').then(() => true);
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), IO_STOP_GRACE_MS); });
  try {
    const stopped = await Promise.race([stopping, grace]);
    if (stopped) await close();
    // Still stopping: the statement finishes by itself on its connection (the server
    // completes it even if the client goes), and the connection is closed then.
    else void stopping.then(close, close);
    return stopped;
  } catch (cause) {
    await close();
    throw cause;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The first half of a promotion, the part users wait for: stop receiving, let the SQL thread
 * apply every transaction already received (bounded), read_only=0. It does not wait for an IO
 * thread stuck on a dead link to finish stopping (see IO_STOP_GRACE_MS); the replication
 * settings are dropped afterwards by `detachReplica`, off the path to the first good request.
 * Each part checks where it is first, so an interrupted run simply applies it again.
 */
export function openForWrites(machine: string, options: PromoteOptions = {}): Action {
  const timeoutS = options.catchUpTimeoutS ?? 30;
  return {
    title: `Make the MariaDB replica on ${machine} the writable primary`,
    machines: [machine],
    mutating: true,
    async plan(ctx) {
      requireMariadb(ctx);
      const sql = (text: string, params: unknown[] = []): Change => ({ kind: 'sql', machine, sql: text, params });
      const changes: Change[] = [];
      try {
        changes.push({ kind: 'note', machine, text: describeStatus(await withAdmin(ctx, machine, (db) => readReplicaStatus(db, machine), options)) });
      } catch (error) {
        changes.push({ kind: 'note', machine, text: `status unknown: ${(error as Error).message}` });
      }
      changes.push(
        sql('START SLAVE SQL_THREAD'),
        { kind: 'note', machine, text: 'only if the SQL thread is stopped without an error and the IO thread still runs' },
        sql('STOP SLAVE IO_THREAD'),
        { kind: 'note', machine, text: `on a connection of its own; not waited for past ${IO_STOP_GRACE_MS} ms (an IO thread stuck on a dead link takes ~2 s to stop, and receives nothing meanwhile)` },
        sql('SELECT MASTER_GTID_WAIT(?, ?)', ['<Gtid_IO_Pos after the IO thread was told to stop>', timeoutS]),
        { kind: 'note', machine, text: options.acceptDataLoss ? 'continue even if not everything received was applied' : 'stop here unless every received transaction was applied' },
        sql('SET GLOBAL read_only = ?', [0]),
      );
      return changes;
    },
    async apply(ctx) {
      requireMariadb(ctx);
      await asActionError('apply-failed', machine, () =>
        withAdmin(ctx, machine, async (db) => {
          let status = await readReplicaStatus(db, machine);
          // Whenever it replicates, even writable already (a person's mistake, or this step
          // applied again): everything received is applied before it counts as promoted.
          if (status.replicating) {
            // The SQL thread must be started while the IO thread still exists: in GTID mode,
            // starting it with both threads stopped discards the relay log (measured here),
            // and with it every transaction the dead primary had already shipped.
            if (status.sqlThread === 'stopped' && !status.lastSqlError && status.ioThread !== 'stopped') {
              await db.query('START SLAVE SQL_THREAD');
            }
            const stoppedAtOnce = status.ioThread === 'stopped' || (await stopReceiving(ctx, machine, options));
            if (!stoppedAtOnce) ctx.log(`${machine}: its IO thread is stuck on a dead link; not waiting for it to finish stopping`);
            status = await readReplicaStatus(db, machine);
            const applying = status.sqlThread === 'running' || gtidCovers(status.gtidApplied, status.gtidReceived);
            const caughtUp = status.lastSqlError === '' && applying && (await waitApplied(db, status.gtidReceived, timeoutS));
            if (!caughtUp) {
              const after = await readReplicaStatus(db, machine);
              const why = `${describeStatus(after)}; ${gtidGap(after.gtidApplied, status.gtidReceived)} received transaction(s) not applied`;
              if (!options.acceptDataLoss) {
                // Leave the replica as it was found: still receiving from its primary (a
                // START waits for a STOP still under way).
                await db.query('START SLAVE IO_THREAD');
                throw new ActionError('apply-failed', `${why}. Not promoted: fix the replica (or accept the loss explicitly) and apply again`);
              }
              ctx.log(`${machine}: promoting despite: ${why}`);
            }
          }
          await db.query('SET GLOBAL read_only = ?', [0]);
        }, options),
      );
      ctx.log(`${machine}: takes writes`);
    },
    async verify(ctx) {
      const status = await asActionError('verify-failed', machine, () => withAdmin(ctx, machine, (db) => readReplicaStatus(db, machine), options));
      if (status.readOnly) throw new ActionError('verify-failed', `not writable: ${describeStatus(status)}`);
      if (status.replicating && !options.acceptDataLoss && !gtidCovers(status.gtidApplied, status.gtidReceived)) {
        throw new ActionError('verify-failed', `writable but not caught up: ${describeStatus(status)}`);
      }
    },
  };
}

/**
 * The second half of a promotion: the new primary forgets its old source (STOP SLAVE waits
 * for an IO thread still stopping), so nothing the old primary might send later is applied.
 */
export function detachReplica(machine: string, options: DbConnectOptions = {}): Action {
  return {
    title: `Drop the replication settings of ${machine}'s MariaDB (it is the primary now)`,
    machines: [machine],
    mutating: true,
    async plan(ctx) {
      requireMariadb(ctx);
      return [
        { kind: 'sql', machine, sql: 'STOP SLAVE', params: [] },
        { kind: 'sql', machine, sql: 'RESET SLAVE ALL', params: [] },
      ];
    },
    async apply(ctx) {
      requireMariadb(ctx);
      await asActionError('apply-failed', machine, () =>
        withAdmin(ctx, machine, async (db) => {
          const status = await readReplicaStatus(db, machine);
          if (!status.replicating) return;
          if (status.readOnly) throw new ActionError('precondition', `${machine} is still read-only: it was not opened for writes, so its replication is left as it is`);
          await db.query('STOP SLAVE');
          await db.query('RESET SLAVE ALL');
        }, options),
      );
    },
    async verify(ctx) {
      const status = await asActionError('verify-failed', machine, () => withAdmin(ctx, machine, (db) => readReplicaStatus(db, machine), options));
      if (status.replicating) throw new ActionError('verify-failed', `still a replica: ${describeStatus(status)}`);
    },
  };
}

/**
 * Turns a replica into a writable primary in one action: `openForWrites`, then
 * `detachReplica`. Recoveries run the two as separate steps, so users need not wait for the
 * second.
 */
export function promoteReplica(machine: string, options: PromoteOptions = {}): Action {
  const open = openForWrites(machine, options);
  const detach = detachReplica(machine, options);
  return {
    title: `Promote the MariaDB replica on ${machine} to primary`,
    machines: [machine],
    mutating: true,
    async plan(ctx) {
      return [...(await open.plan(ctx)), ...(await detach.plan(ctx))];
    },
    async apply(ctx) {
      await open.apply(ctx);
      await detach.apply(ctx);
      ctx.log(`${machine}: promoted to primary`);
    },
    async verify(ctx) {
      await open.verify(ctx);
      await detach.verify(ctx);
    },
  };
}

/** Sets `read_only` (the old primary, when it answers, goes read-only before the switch). */
export function setReadOnly(machine: string, readOnly: boolean, options: DbConnectOptions = {}): Action {
  let previous: boolean | undefined;
  const value = readOnly ? 1 : 0;
  return {
    title: `Make MariaDB on ${machine} ${readOnly ? 'read-only' : 'writable'}`,
    machines: [machine],
    mutating: true,
    async plan() {
      return [{ kind: 'sql', machine, sql: 'SET GLOBAL read_only = ?', params: [value] }];
    },
    async apply(ctx) {
      await asActionError('apply-failed', machine, () =>
        withAdmin(ctx, machine, async (db) => {
          const [rows] = await db.query<RowDataPacket[]>('SELECT @@global.read_only AS ro');
          previous ??= Number(rows[0]?.ro) === 1;
          await db.query('SET GLOBAL read_only = ?', [value]);
        }, options),
      );
    },
    async verify(ctx) {
      const ro = await asActionError('verify-failed', machine, () =>
        withAdmin(ctx, machine, async (db) => Number((await db.query<RowDataPacket[]>('SELECT @@global.read_only AS ro'))[0][0]?.ro), options),
      );
      if (ro !== value) throw new ActionError('verify-failed', `${machine}: read_only is ${ro}, expected ${value}`);
    },
    async undo(ctx) {
      if (previous === undefined) return;
      const back = previous ? 1 : 0;
      await asActionError('undo-failed', machine, () => withAdmin(ctx, machine, (db) => db.query('SET GLOBAL read_only = ?', [back]), options));
    },
  };
}

/** The GTID position a server has reached (`@@gtid_current_pos`): what a drill compares for RPO. */
export async function gtidPosition(ctx: ActionContext, machine: string, options?: DbConnectOptions): Promise<string> {
  requireMariadb(ctx);
  return asActionError('precondition', machine, () =>
    withAdmin(ctx, machine, async (db) => String((await db.query<RowDataPacket[]>('SELECT @@global.gtid_current_pos AS p'))[0][0]?.p ?? ''), options),
  );
}

/** A check: waits (bounded) until `machine` has applied `gtid`. Changes nothing. */
export function waitForGtid(machine: string, gtid: string, timeoutS = 10, options: DbConnectOptions = {}): Action {
  return {
    title: `Wait until ${machine} has applied GTID ${gtid}`,
    machines: [machine],
    mutating: false,
    async plan() {
      return [{ kind: 'sql', machine, sql: 'SELECT MASTER_GTID_WAIT(?, ?)', params: [gtid, timeoutS] }];
    },
    async apply(ctx) {
      requireMariadb(ctx);
      const reached = await asActionError('apply-failed', machine, () => withAdmin(ctx, machine, (db) => waitApplied(db, gtid, timeoutS), options));
      if (!reached) throw new ActionError('apply-failed', `${machine} did not apply ${gtid} within ${timeoutS} s`);
    },
    async verify(ctx) {
      const current = await gtidPosition(ctx, machine, options);
      if (!gtidCovers(current, gtid)) {
        throw new ActionError('verify-failed', `${machine} is at ${current || '(nothing)'}, ${gtidGap(current, gtid)} transaction(s) short of ${gtid}`);
      }
    },
  };
}
