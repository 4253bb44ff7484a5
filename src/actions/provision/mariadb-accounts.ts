/**
 * The accounts and the schema a new MariaDB machine gets: the fleet's admin, the
 * application's user and the replication user, each at '%', and the schema database.
 *
 * They are sent as text to the `mariadb` client on the machine (over the unix socket, as
 * root), because a fresh server has no account lifeboat could log in with over TCP. The
 * client has no parameters, and `CREATE USER … IDENTIFIED BY` takes no placeholders in
 * MariaDB's prepared statements either, so each statement is built from a parameterised
 * template with mysql2's `format` (sqlstring's escaping) — after the session turned off
 * NO_BACKSLASH_ESCAPES, the one sql_mode that would change what that escaping means.
 */
import mysql from 'mysql2';
import type { Database } from '../../fleet/schema.ts';
import type { Change } from '../action.ts';

export interface Statement {
  /** Template with `?` (values) and `??` (identifiers). */
  sql: string;
  params: unknown[];
  /** Indexes of `params` that are secret references, resolved only when the SQL is built. */
  secret?: readonly number[];
}

export const MASKED = '***';

const HOST = '%';
const REPLICATION_GRANTS = 'REPLICATION SLAVE, REPLICATION CLIENT, SLAVE MONITOR, BINLOG MONITOR';

function account(user: string, passwordRef: string): Statement[] {
  return [
    { sql: 'CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?', params: [user, HOST, passwordRef], secret: [2] },
    // The account may exist from an earlier, interrupted run with another password.
    { sql: 'ALTER USER ?@? IDENTIFIED BY ?', params: [user, HOST, passwordRef], secret: [2] },
  ];
}

/**
 * Everything in order. The session does not write its binlog: an account statement in a new
 * replica's own binlog would give it a GTID the primary never had, which GTID strict mode
 * refuses once replication starts (LAB-NOTES, GTID trap); every machine is provisioned with
 * the same statements instead.
 */
export function accountStatements(db: Database): Statement[] {
  const statements: Statement[] = [
    { sql: 'SET SESSION sql_log_bin = 0', params: [] },
    { sql: "SET SESSION sql_mode = REPLACE(@@SESSION.sql_mode, 'NO_BACKSLASH_ESCAPES', '')", params: [] },
    ...account(db.adminUser, db.adminPassword),
    { sql: 'GRANT ALL PRIVILEGES ON *.* TO ?@? WITH GRANT OPTION', params: [db.adminUser, HOST] },
    { sql: 'CREATE DATABASE IF NOT EXISTS ??', params: [db.schema] },
    ...account(db.user, db.password),
    { sql: 'GRANT ALL PRIVILEGES ON ??.* TO ?@?', params: [db.schema, db.user, HOST] },
  ];
  if (db.replicationPassword) {
    statements.push(...account(db.replicationUser, db.replicationPassword), { sql: `GRANT ${REPLICATION_GRANTS} ON *.* TO ?@?`, params: [db.replicationUser, HOST] });
  }
  return statements;
}

export function sqlChanges(machine: string, statements: readonly Statement[]): Change[] {
  return statements.map((s) => ({
    kind: 'sql',
    machine,
    sql: s.sql,
    params: s.params.map((p, i) => (s.secret?.includes(i) ? MASKED : p)),
  }));
}

/** The statements as one script for the client's stdin; secrets resolved here and nowhere else. */
export async function renderScript(statements: readonly Statement[], secret: (ref: string) => Promise<string>): Promise<string> {
  const lines: string[] = [];
  for (const s of statements) {
    const params = await Promise.all(s.params.map((p, i) => (s.secret?.includes(i) ? secret(String(p)) : p)));
    lines.push(`${mysql.format(s.sql, params as Parameters<typeof mysql.format>[1])};`);
  }
  return lines.join('\n') + '\n';
}
