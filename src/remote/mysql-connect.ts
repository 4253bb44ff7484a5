/**
 * Every mysql2 connection lifeboat opens to a machine's MariaDB: encrypted and verified when
 * the machine holds a certificate of the fleet's CA (tls.ts), and bounded — a time-out to
 * connect, and one on every query (a server that accepts connections but hangs, on a full
 * disk or a held lock, must turn into an error, not a recovery that waits for ever). A
 * caller that runs a long statement passes its own `timeout` in the query's options.
 */
import mysql from 'mysql2/promise';
import type { Fleet, Machine } from '../fleet/schema.ts';
import { mysqlConnection } from './tls.ts';

/** A query's time-out when its caller gave none. */
export const DEFAULT_QUERY_TIMEOUT_MS = 60_000;

export interface MysqlConnectOptions {
  connectTimeoutMs: number;
  queryTimeoutMs?: number;
  /** Extra driver options (number handling). */
  extra?: Partial<mysql.ConnectionOptions>;
}

type QueryArg = string | mysql.QueryOptions;

/** `query` and `execute` of `conn` with a default time-out (a query's own `timeout` wins). */
export function boundQueries(conn: mysql.Connection, timeoutMs: number): mysql.Connection {
  const withTimeout = (arg: QueryArg): mysql.QueryOptions => (typeof arg === 'string' ? { sql: arg, timeout: timeoutMs } : { timeout: timeoutMs, ...arg });
  const query = conn.query.bind(conn) as (arg: mysql.QueryOptions, values?: unknown) => Promise<unknown>;
  const execute = conn.execute.bind(conn) as (arg: mysql.QueryOptions, values?: unknown) => Promise<unknown>;
  // The driver has no per-connection default; its own methods are wrapped, so every caller keeps its types.
  Object.assign(conn, {
    query: (arg: QueryArg, values?: unknown) => query(withTimeout(arg), values),
    execute: (arg: QueryArg, values?: unknown) => execute(withTimeout(arg), values),
  });
  return conn;
}

export async function connectMysql(fleet: Fleet, m: Machine, user: string, password: string, options: MysqlConnectOptions): Promise<mysql.Connection> {
  const conn = await mysql.createConnection({ ...mysqlConnection(fleet, m, user, password, options.connectTimeoutMs), ...options.extra });
  return boundQueries(conn, options.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS);
}
