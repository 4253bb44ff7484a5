/**
 * A list of SQL statements that `plan` prints and `apply` runs, built once so the two can
 * never disagree. Values always travel as parameters; a parameter that holds a secret is
 * named in `secret` and shown as `***` in the plan (the journal redacts again on its own).
 */
import type mysql from 'mysql2/promise';
import type { Change } from '../actions/action.ts';

export interface Statement {
  sql: string;
  params: unknown[];
  /** Indexes of `params` that hold secrets. */
  secret?: readonly number[];
}

export const MASKED = '***';

export function sql(text: string, params: unknown[] = [], secret: readonly number[] = []): Statement {
  return { sql: text, params, secret };
}

export function sqlChanges(machine: string, statements: readonly Statement[]): Change[] {
  return statements.map((s) => ({
    kind: 'sql',
    machine,
    sql: s.sql,
    params: s.params.map((p, i) => (s.secret?.includes(i) ? MASKED : p)),
  }));
}

/** Runs the statements in order on one connection; the first failure stops the list. */
export async function runStatements(db: mysql.Connection, statements: readonly Statement[]): Promise<void> {
  for (const s of statements) await db.query(s.sql, s.params);
}
