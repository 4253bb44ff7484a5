/**
 * MariaDB accounts a machine must have for its part: the replication account on the primary
 * and every replica (a replica is promoted one day and then its peer replicates from it), and
 * the application's account on every replica (the seed copies the schema, not the accounts,
 * and the services log in there after a promotion). Created with sql_log_bin=0 on each
 * machine: an account statement written to a replica's own binlog would give it a GTID of its
 * own, which GTID strict mode later refuses (LAB-NOTES, GTID trap).
 */
import mysql from 'mysql2/promise';
import { ActionError, type Action, type ActionContext } from '../actions/action.ts';
import { escapeId, fleetDatabase, withAdmin } from '../actions/db-connection.ts';
import { connectMysql } from '../remote/mysql-connect.ts';
import type { Machine } from '../fleet/schema.ts';
import { tlsRequired } from '../remote/tls.ts';
import { runStatements, sql, sqlChanges, type Statement } from './sql-statements.ts';

const HOST = '%';

interface AccountSpec {
  what: string;
  credentials(ctx: ActionContext): Promise<{ user: string; password: string }>;
  /** The privileges clause, from constants and escaped fleet identifiers only. */
  grants(ctx: ActionContext): string;
  /** Text SHOW GRANTS prints once the grant is there. */
  granted(ctx: ActionContext): string;
  /** The account logs in only inside TLS on a machine that serves it (it crosses the network). */
  tlsOnly?: boolean;
}

export async function replicationCredentials(ctx: ActionContext): Promise<{ user: string; password: string }> {
  const db = fleetDatabase(ctx);
  if (!db.replicationPassword) {
    throw new ActionError('precondition', 'the fleet file has no database.replicationPassword: say where the replication password is kept (env: or file:)');
  }
  return { user: db.replicationUser, password: await ctx.secret(db.replicationPassword) };
}

const REPLICATION: AccountSpec = {
  what: 'Replication account',
  credentials: replicationCredentials,
  grants: () => 'REPLICATION SLAVE, REPLICATION CLIENT, SLAVE MONITOR, BINLOG MONITOR ON *.*',
  granted: () => 'REPLICATION SLAVE',
  tlsOnly: true,
};

const APPLICATION: AccountSpec = {
  what: "The services' account",
  credentials: async (ctx) => {
    const db = fleetDatabase(ctx);
    return { user: db.user, password: await ctx.secret(db.password) };
  },
  grants: (ctx) => `ALL PRIVILEGES ON ${escapeId(fleetDatabase(ctx).schema)}.*`,
  granted: (ctx) => `ON ${escapeId(fleetDatabase(ctx).schema)}.*`,
};

/** True when the account can log in on `machine` with the fleet's password. */
async function canLogIn(ctx: ActionContext, machine: Machine, spec: AccountSpec): Promise<boolean> {
  const { user, password } = await spec.credentials(ctx);
  try {
    const c = await connectMysql(ctx.fleet, machine, user, password, { connectTimeoutMs: 2000, queryTimeoutMs: 5000 });
    await c.end();
    return true;
  } catch {
    return false;
  }
}

function account(machine: Machine, spec: AccountSpec): Action {
  async function statements(ctx: ActionContext): Promise<Statement[]> {
    const { user, password } = await spec.credentials(ctx);
    const requireTls = spec.tlsOnly === true && tlsRequired(ctx.fleet, machine.name);
    const { state, tlsRequiredNow } = await withAdmin(ctx, machine.name, async (db) => {
      const [rows] = await db.query<mysql.RowDataPacket[]>('SELECT ssl_type FROM mysql.user WHERE User = ? AND Host = ?', [user, HOST]);
      if (rows.length === 0) return { state: 'missing' as const, tlsRequiredNow: false };
      const tlsRequiredNow = String(rows[0]?.ssl_type ?? '') !== '';
      const [grants] = await db.query<mysql.RowDataPacket[]>('SHOW GRANTS FOR ?@?', [user, HOST]);
      const text = grants.map((g) => String(Object.values(g)[0])).join('\n');
      return { state: text.includes(spec.granted(ctx)) ? ('present' as const) : ('ungranted' as const), tlsRequiredNow };
    });
    const out: Statement[] = [];
    // A replica (a promoted one's peer one day) may log in only inside TLS: no clear fallback to downgrade to.
    if (requireTls && !tlsRequiredNow && state !== 'missing') out.push(sql('ALTER USER ?@? REQUIRE SSL', [user, HOST]));
    if (state === 'missing') out.push(sql(`CREATE USER ?@? IDENTIFIED BY ?${requireTls ? ' REQUIRE SSL' : ''}`, [user, HOST, password], [2]));
    else if (!(await canLogIn(ctx, machine, spec))) out.push(sql('ALTER USER ?@? IDENTIFIED BY ?', [user, HOST, password], [2]));
    if (state !== 'present') out.push(sql(`GRANT ${spec.grants(ctx)} TO ?@?`, [user, HOST]));
    return out.length ? [sql('SET SESSION sql_log_bin = 0'), ...out] : [];
  }

  return {
    title: `${spec.what} on ${machine.name}`,
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
      if (!(await canLogIn(ctx, machine, spec))) {
        const { user } = await spec.credentials(ctx);
        throw new ActionError('verify-failed', `${machine.name}: ${spec.what.toLowerCase()} ${user} cannot log in with the fleet's password`);
      }
    },
  };
}

export const replicationAccount = (machine: Machine): Action => account(machine, REPLICATION);
export const applicationAccount = (machine: Machine): Action => account(machine, APPLICATION);
