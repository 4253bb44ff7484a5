/**
 * The `speed` database the stand-ins use: where its DDL lives, how to apply it, and the
 * domain list seeded from a fleet. The lab applies it on every `lab up` (idempotent).
 */
import { readFile } from 'node:fs/promises';
import type { Connection, Pool, PoolConnection } from 'mysql2/promise';
import { repoPath } from '../../util/repo.ts';

/** Absolute path of `schema.sql` (inside a lab host: under the read-only repo mount). */
export const SCHEMA_SQL_PATH = repoPath('src', 'lab', 'apps', 'schema.sql');

type Sql = Connection | Pool | PoolConnection;

/** The DDL split into single statements, comments dropped (no multi-statement queries needed). */
export async function schemaStatements(path = SCHEMA_SQL_PATH): Promise<string[]> {
  const text = await readFile(path, 'utf8');
  return text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('--'))
    .join('\n')
    .split(/;\s*\n/)
    .map((s) => s.trim().replace(/;$/, ''))
    .filter((s) => s.length > 0);
}

/** Creates the `speed` database and its tables when missing; never drops or alters. */
export async function applySchema(sql: Sql): Promise<void> {
  for (const statement of await schemaStatements()) await sql.query(statement);
}

/** What the seed needs from a fleet (a `Fleet` from src/fleet/schema.ts fits). */
export interface DomainSource {
  machines: ReadonlyArray<{ address: string; domains: readonly string[] }>;
}

/**
 * Fills `speed.t_app_dns` from the fleet: each machine's domains → its address, online.
 * Re-running resets every listed domain to the fleet's picture; other rows are kept.
 */
export async function seedDomains(sql: Sql, fleet: DomainSource): Promise<number> {
  let rows = 0;
  for (const machine of fleet.machines) {
    for (const domain of machine.domains) {
      await sql.query(
        'INSERT INTO speed.t_app_dns (domain, ip, status) VALUES (?, ?, 1) ' +
          'ON DUPLICATE KEY UPDATE ip = VALUES(ip), status = 1',
        [domain, machine.address],
      );
      rows += 1;
    }
  }
  return rows;
}
