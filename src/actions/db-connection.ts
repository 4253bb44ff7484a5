/**
 * Opens a MariaDB connection from the operator's side to a machine of the fleet, as the
 * fleet's admin account (replication, promotion, the domain list). Every statement sent over
 * it is parameterised; identifiers come from the validated fleet and go through escapeId.
 */
import mysql from 'mysql2/promise';
import type { Database } from '../fleet/schema.ts';
import { connectMysql } from '../remote/mysql-connect.ts';
import { ActionError, type ActionContext } from './action.ts';

export interface DbConnectOptions {
  /** Default 2000 ms: a dead database must not hold a recovery for long. */
  connectTimeoutMs?: number;
}

export function fleetDatabase(ctx: ActionContext): Database {
  const database = ctx.fleet.database;
  if (!database) throw new ActionError('precondition', 'the fleet file has no database section');
  return database;
}

export function machineAddress(ctx: ActionContext, machine: string): string {
  const found = ctx.fleet.machines.find((m) => m.name === machine);
  if (!found) throw new ActionError('precondition', `no machine ${JSON.stringify(machine)} in the fleet file`);
  return found.address;
}

export async function connectAdmin(ctx: ActionContext, machine: string, options: DbConnectOptions = {}): Promise<mysql.Connection> {
  const database = fleetDatabase(ctx);
  const host = machineAddress(ctx, machine);
  const password = await ctx.secret(database.adminPassword);
  try {
    return await connectMysql(ctx.fleet, ctx.fleet.machines.find((m) => m.name === machine)!, database.adminUser, password, {
      connectTimeoutMs: options.connectTimeoutMs ?? 2000,
      // Rows as plain objects; numbers beyond 2^53 (GTID sequence numbers) as strings.
      extra: { supportBigNumbers: true, bigNumberStrings: true },
    });
  } catch (cause) {
    // The driver's message names host and user, never the password.
    throw new ActionError('precondition', `cannot reach MariaDB on ${machine} (${host}:${database.port}): ${(cause as Error).message}`, { cause });
  }
}

/** Runs `work` with a connection and always closes it. */
export async function withAdmin<T>(ctx: ActionContext, machine: string, work: (db: mysql.Connection) => Promise<T>, options?: DbConnectOptions): Promise<T> {
  const db = await connectAdmin(ctx, machine, options);
  try {
    return await work(db);
  } finally {
    // A connection that cannot close politely is torn down: the work's result stands.
    await db.end().catch(() => db.destroy());
  }
}

/** `schema`.`table` from fleet-validated names. */
export function qualified(schema: string, table: string): string {
  return `${mysql.escapeId(schema)}.${mysql.escapeId(table)}`;
}

export const escapeId = (name: string): string => mysql.escapeId(name);
