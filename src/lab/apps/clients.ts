/**
 * MariaDB and Redis clients with the short timeouts a stand-in needs: a dead database must
 * turn into a fast 503, never a hung request (LAB-NOTES: a dead host's TCP connect can take
 * 3 s to 133 s without a timeout).
 */
import mysql from 'mysql2/promise';
import { Redis } from 'ioredis';
import type { MysqlTarget, RedisTarget } from './config.ts';

export const CONNECT_TIMEOUT_MS = 1000;
export const QUERY_TIMEOUT_MS = 2000;

export function createMysqlPool(target: MysqlTarget): mysql.Pool {
  return mysql.createPool({
    host: target.host || '127.0.0.1',
    port: target.port,
    user: target.user,
    password: target.password,
    database: target.database,
    connectTimeout: CONNECT_TIMEOUT_MS,
    connectionLimit: 8,
    // Rejects at once instead of queueing forever when every connection is stuck.
    queueLimit: 64,
    enableKeepAlive: true,
    dateStrings: true,
  });
}

/** A parameterised query that gives up after `timeoutMs` (the link may be cut mid-query). */
export async function query<T = unknown>(pool: mysql.Pool, sql: string, values: unknown[] = [], timeoutMs = QUERY_TIMEOUT_MS): Promise<T> {
  const [rows] = await pool.query({ sql, values, timeout: timeoutMs });
  return rows as T;
}

export function createRedis(target: RedisTarget): Redis {
  const client = new Redis({
    host: target.host || '127.0.0.1',
    port: target.port,
    db: target.db,
    ...(target.password ? { password: target.password } : {}),
    connectTimeout: CONNECT_TIMEOUT_MS,
    commandTimeout: CONNECT_TIMEOUT_MS,
    maxRetriesPerRequest: 1,
    // Keep trying in the background; each request fails fast meanwhile.
    retryStrategy: (times) => Math.min(times * 200, 1000),
  });
  client.on('error', () => undefined); // surfaced per command and by /healthz
  return client;
}

/** Rejects with `message` when `promise` takes longer than `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** `ok` or the reason the check failed, each bounded by 1 s. */
export async function check(what: () => Promise<unknown>): Promise<string> {
  try {
    await withTimeout(what(), CONNECT_TIMEOUT_MS, 'timed out after 1 s');
    return 'ok';
  } catch (error) {
    return `failed: ${(error as Error).message}`;
  }
}
