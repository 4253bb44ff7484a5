/**
 * The account a replica logs in with, on the primary and on every replica (a replica is
 * promoted one day and then its peer replicates from it). Created with sql_log_bin=0 on
 * each machine: an account statement written to a replica's own binlog would give it a
 * GTID of its own, which GTID strict mode later refuses (LAB-NOTES, GTID trap).
 */
import mysql from 'mysql2/promise';
import { ActionError, type Action, type ActionContext } from '../actions/action.ts';
import { fleetDatabase, withAdmin } from '../actions/db-connection.ts';
import type { Machine } from '../fleet/schema.ts';
import { runStatements, sql, sqlChanges, type Statement } from './sql-statements.ts';

const GRANTS = 'REPLICATION SLAVE, REPLICATION CLIENT, SLAVE MONITOR, BINLOG MONITOR';
const HOST = '%';

export async function replicationCredentials(ctx: ActionContext): Promise<{ user: string; password: string }> {
  const db = fleetDatabase(ctx);
  if (!db.replicationPassword) {
    throw new ActionError('precondition', 'the fleet file has no database.replicationPassword: say where the replication password is kept (env: or file:)');
  }
  return { user: db.replicationUser, password: await ctx.secret(db.replicationPassword) };
}

/** True when the replication account can log in on `machine` with the fleet's password. */
async function canLogIn(ctx: ActionContext, machine: Machine): Promise<boolean> {
  const { user, password } = await replicationCredentials(ctx);
  try {
    const c = await mysql.createConnection({ host: machine.address, port: fleetDatabase(ctx).port, user, password, connectTimeout: 2000 });
    await c.end();
    return true;
  } catch {
    return false;
  }
}

export function replicationAccount(machine: Machine): Action {
  async function statements(ctx: ActionContext): Promise<Statement[]> {
    const { user, password } = await replicationCredentials(ctx);
    const state = await withAdmin(ctx, machine.name, async (db) => {
      const [rows] = await db.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM mysql.user WHERE User = ? AND Host = ?', [user, HOST]);
      if (Number(rows[0]?.n) === 0) return 'missing' as const;
      const [grants] = await db.query<mysql.RowDataPacket[]>('SHOW GRANTS FOR ?@?', [user, HOST]);
      const text = grants.map((g) => String(Object.values(g)[0])).join('\n');
      return text.includes('REPLICATION SLAVE') ? ('present' as const) : ('ungranted' as const);
    });
    const out: Statement[] = [];
    if (state === 'missing') out.push(sql('CREATE USER ?@? IDENTIFIED BY ?', [user, HOST, password], [2]));
    else if (!(await canLogIn(ctx, machine))) out.push(sql('ALTER USER ?@? IDENTIFIED BY ?', [user, HOST, password], [2]));
    if (state !== 'present') out.push(sql(`GRANT ${GRANTS} ON *.* TO ?@?`, [user, HOST]));
    return out.length ? [sql('SET SESSION sql_log_bin = 0'), ...out] : [];
  }

  return {
    title: `Replication account on ${machine.name}`,
    machines: [machine.name],
    mutating: true,
    async plan(ctx) {
      return sqlChanges(machine.name, await statements(ctx));
    },
    async apply(ctx) {
      const todo = await statements(ctx);
      if (todo.length) await withAdmin(ctx, machine.name, (db) => runStatements(db, todo));
    },
    async verify(ctx) {
      if (!(await canLogIn(ctx, machine))) {
        throw new ActionError('verify-failed', `${machine.name}: the replication account ${fleetDatabase(ctx).replicationUser} cannot log in with the fleet's password`);
      }
    },
  };
}
