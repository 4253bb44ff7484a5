/**
 * Makes a MariaDB server replicate from another machine of the fleet: how an old primary
 * comes back as a replica of the one that replaced it. The server's own history must be a
 * prefix of the source's; MariaDB refuses the connection otherwise and verify reports it.
 */
import { ActionError, type Action, type ActionContext, type Change } from './action.ts';
import { changeMasterSql } from './change-master.ts';
import type { Machine } from '../fleet/schema.ts';
import { asActionError } from './action-errors.ts';
import { fleetDatabase, machineAddress, withAdmin, type DbConnectOptions } from './db-connection.ts';
import { readReplicaStatus, requireMariadb } from './replica-status.ts';

export interface ReplicateFromOptions extends DbConnectOptions {
  /** Default: the fleet's database port (every machine listens on the same one). */
  sourcePort?: number;
  /** How long verify waits for both replication threads to run. Default 10 s. */
  verifyWithinS?: number;
}

/** The fleet's machine of that name. */
function machineNamed(ctx: ActionContext, name: string): Machine {
  const m = ctx.fleet.machines.find((x) => x.name === name);
  if (!m) throw new ActionError('precondition', `no machine ${JSON.stringify(name)} in the fleet file`);
  return m;
}

export function replicateFrom(machine: string, source: string, options: ReplicateFromOptions = {}): Action {
  return {
    title: `Make MariaDB on ${machine} a read-only replica of ${source}`,
    machines: [machine, source],
    mutating: true,
    async plan(ctx) {
      requireMariadb(ctx);
      const db = fleetDatabase(ctx);
      const host = machineAddress(ctx, source);
      const port = options.sourcePort ?? db.port;
      const sql = (text: string, params: unknown[] = []): Change => ({ kind: 'sql', machine, sql: text, params });
      return [
        sql('SET GLOBAL read_only = ?', [1]),
        sql('STOP SLAVE'),
        // LAB-NOTES' GTID trap: an old primary's gtid_slave_pos is empty or stale, and
        // replicating from it would replay history and stop the SQL thread in strict mode.
        sql('SET GLOBAL gtid_slave_pos = @@gtid_binlog_pos'),
        ...(() => {
          const change = changeMasterSql(ctx.fleet, machineNamed(ctx, source), machineNamed(ctx, machine), db.replicationUser, '***', port);
          return [sql(change.sql, change.params)];
        })(),
        sql('START SLAVE'),
      ];
    },
    async apply(ctx) {
      requireMariadb(ctx);
      const db = fleetDatabase(ctx);
      if (!db.replicationPassword) throw new ActionError('precondition', 'the fleet file names no database.replicationPassword');
      const password = await ctx.secret(db.replicationPassword);
      const host = machineAddress(ctx, source);
      const port = options.sourcePort ?? db.port;
      await asActionError('apply-failed', machine, () =>
        withAdmin(ctx, machine, async (conn) => {
          await conn.query('SET GLOBAL read_only = ?', [1]);
          const status = await readReplicaStatus(conn, machine);
          const already = status.source?.host === host && status.source.port === port;
          if (already && status.ioThread !== 'stopped' && status.sqlThread === 'running') return;
          if (already && !status.lastSqlError && !status.lastIoError) {
            // Configured by an interrupted run: only the threads are missing. Restarting
            // without CHANGE MASTER keeps the relay log and the position already reached.
            await conn.query('START SLAVE');
            return;
          }
          await conn.query('STOP SLAVE');
          await conn.query('SET GLOBAL gtid_slave_pos = @@gtid_binlog_pos');
          const change = changeMasterSql(ctx.fleet, machineNamed(ctx, source), machineNamed(ctx, machine), db.replicationUser, password, port);
          await conn.query(change.sql, change.params);
          await conn.query('START SLAVE');
        }, options),
      );
      ctx.log(`${machine}: replicating from ${source}`);
    },
    async verify(ctx) {
      const host = machineAddress(ctx, source);
      const deadline = Date.now() + (options.verifyWithinS ?? 10) * 1000;
      for (;;) {
        const status = await asActionError('verify-failed', machine, () => withAdmin(ctx, machine, (conn) => readReplicaStatus(conn, machine), options));
        const healthy = status.readOnly && status.source?.host === host && status.ioThread === 'running' && status.sqlThread === 'running';
        if (healthy) return;
        const broken = status.lastIoError || status.lastSqlError;
        if (broken || Date.now() > deadline) {
          throw new ActionError(
            'verify-failed',
            `${machine} does not replicate from ${source}: IO ${status.ioThread}, SQL ${status.sqlThread}${broken ? `: ${broken}` : ''}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    },
  };
}
