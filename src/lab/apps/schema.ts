/**
 * The lab's tables in the fleet's schema: the fleet's domain table (its own name and column
 * names), the generic stand-ins' writes and singleton runs, and, where the seed's richer
 * variants run, their tables (schema.sql). The lab applies it on every `lab up` (idempotent).
 */
import { readFile } from 'node:fs/promises';
import type { Connection, Pool, PoolConnection } from 'mysql2/promise';
import { repoPath } from '../../util/repo.ts';
import { LAB_RUNS_TABLE, LAB_WRITES_TABLE } from './generic-spec.ts';

/** Absolute path of `schema.sql` (inside a lab host: under the read-only repo mount). */
export const SCHEMA_SQL_PATH = repoPath('src', 'lab', 'apps', 'schema.sql');

type Sql = Connection | Pool | PoolConnection;

/** What the lab needs of the fleet's database section. */
export interface LabDatabase {
  schema: string;
  domainTable: { name: string; domainColumn: string; ipColumn: string; statusColumn: string; online: number };
}

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

const id = (name: string) => `\`${name.replace(/`/g, '``')}\``;

/**
 * Creates the schema and the lab's tables when missing; never drops or alters. `rich`: also
 * the tables of the seed's variants. Leaves `sql` using the schema.
 */
export async function applySchema(sql: Sql, db: LabDatabase, options: { rich?: boolean } = {}): Promise<void> {
  const t = db.domainTable;
  await sql.query(`CREATE DATABASE IF NOT EXISTS ${id(db.schema)} CHARACTER SET utf8mb4`);
  await sql.query(`USE ${id(db.schema)}`);
  await sql.query(
    `CREATE TABLE IF NOT EXISTS ${id(t.name)} (id bigint NOT NULL AUTO_INCREMENT, ${id(t.domainColumn)} varchar(253) NOT NULL, ` +
      `${id(t.ipColumn)} varchar(45) NOT NULL, ${id(t.statusColumn)} int NOT NULL, ` +
      `PRIMARY KEY (id), UNIQUE KEY uk_domain (${id(t.domainColumn)})) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`);
  await sql.query(
    `CREATE TABLE IF NOT EXISTS ${id(LAB_WRITES_TABLE)} (id bigint NOT NULL AUTO_INCREMENT, service varchar(64) NOT NULL, ` +
      'host varchar(255) NOT NULL, note varchar(200) NOT NULL, created_at timestamp(6) NOT NULL DEFAULT current_timestamp(6), ' +
      'PRIMARY KEY (id)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4');
  await sql.query(
    `CREATE TABLE IF NOT EXISTS ${id(LAB_RUNS_TABLE)} (id bigint NOT NULL AUTO_INCREMENT, service varchar(64) NOT NULL, ` +
      'host varchar(255) NOT NULL, started_at datetime(6) NOT NULL, finished_at datetime(6) NULL DEFAULT NULL, ' +
      'PRIMARY KEY (id), KEY idx_started (service, started_at)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4');
  if (options.rich) for (const statement of await schemaStatements()) await sql.query(statement);
}

/** What the seed needs from a fleet (a `Fleet` from src/fleet/schema.ts fits). */
export interface DomainSource {
  machines: ReadonlyArray<{ address: string; domains: readonly string[] }>;
}

/**
 * Fills the fleet's domain table from the fleet: each machine's domains → its address,
 * online. Re-running resets every listed domain to the fleet's picture; other rows are kept.
 */
export async function seedDomains(sql: Sql, db: LabDatabase, fleet: DomainSource): Promise<number> {
  const t = db.domainTable;
  let rows = 0;
  for (const machine of fleet.machines) {
    for (const domain of machine.domains) {
      await sql.query(
        `INSERT INTO ${id(db.schema)}.${id(t.name)} (${id(t.domainColumn)}, ${id(t.ipColumn)}, ${id(t.statusColumn)}) VALUES (?, ?, ?) ` +
          `ON DUPLICATE KEY UPDATE ${id(t.ipColumn)} = VALUES(${id(t.ipColumn)}), ${id(t.statusColumn)} = VALUES(${id(t.statusColumn)})`,
        [domain, machine.address, t.online],
      );
      rows += 1;
    }
  }
  return rows;
}
