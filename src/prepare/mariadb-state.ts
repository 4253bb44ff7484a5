/** Reads what a MariaDB server says about its replication; queries only, never changes. */
import type mysql from 'mysql2/promise';

export interface ReplicaLink {
  masterHost: string;
  masterPort: number;
  masterUser: string;
  usingGtid: string;
  ioRunning: string;
  sqlRunning: string;
  secondsBehind: number | null;
  lastError: string;
  gtidSlavePos: string;
  /** The link uses TLS and checks the primary's certificate and name. */
  tlsVerified: boolean;
}

type Row = mysql.RowDataPacket;

/**
 * The default (unnamed) replication connection, if one is configured, with the settings
 * prepare compares against the wanted ones (user, GTID mode), which actions/replica-status
 * does not carry; health and lag come from actions/replica-status.
 */
export async function replicaLink(db: mysql.Connection): Promise<ReplicaLink | undefined> {
  const [rows] = await db.query<Row[]>('SHOW ALL SLAVES STATUS');
  const r = rows.find((row) => (row.Connection_name ?? '') === '');
  if (!r) return undefined;
  return {
    masterHost: String(r.Master_Host ?? ''),
    masterPort: Number(r.Master_Port ?? 0),
    masterUser: String(r.Master_User ?? ''),
    usingGtid: String(r.Using_Gtid ?? ''),
    ioRunning: String(r.Slave_IO_Running ?? ''),
    sqlRunning: String(r.Slave_SQL_Running ?? ''),
    secondsBehind: r.Seconds_Behind_Master === null || r.Seconds_Behind_Master === undefined ? null : Number(r.Seconds_Behind_Master),
    lastError: String(r.Last_SQL_Error || r.Last_IO_Error || ''),
    gtidSlavePos: String(r.Gtid_Slave_Pos ?? ''),
    tlsVerified: String(r.Master_SSL_Allowed) === 'Yes' && String(r.Master_SSL_Verify_Server_Cert) === 'Yes',
  };
}

/** Global variables by name (lower-case names, values as the server prints them). */
export async function globals(db: mysql.Connection, names: readonly string[]): Promise<Record<string, string>> {
  const [rows] = await db.query<Row[]>('SELECT VARIABLE_NAME AS name, VARIABLE_VALUE AS value FROM information_schema.GLOBAL_VARIABLES WHERE VARIABLE_NAME IN (?)', [names.map((n) => n.toUpperCase())]);
  const out: Record<string, string> = {};
  for (const row of rows) out[String(row.name).toLowerCase()] = String(row.value);
  return out;
}

export async function globalStatus(db: mysql.Connection, names: readonly string[]): Promise<Record<string, string>> {
  const [rows] = await db.query<Row[]>('SELECT VARIABLE_NAME AS name, VARIABLE_VALUE AS value FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME IN (?)', [names.map((n) => n.toUpperCase())]);
  const out: Record<string, string> = {};
  for (const row of rows) out[String(row.name).toLowerCase()] = String(row.value);
  return out;
}

/** True when any base table of `schema` holds a row (exact, not the statistics' estimate). */
export async function schemaHasRows(db: mysql.Connection, schema: string): Promise<boolean> {
  const [tables] = await db.query<Row[]>("SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE'", [schema]);
  for (const t of tables) {
    const [rows] = await db.query<Row[]>('SELECT 1 FROM ??.?? LIMIT 1', [schema, String(t.name)]);
    if (rows.length > 0) return true;
  }
  return false;
}

/** The schemas every server has of its own. */
export const SYSTEM_SCHEMAS = ['mysql', 'sys', 'information_schema', 'performance_schema'] as const;

/** Rows in any schema of the server's users (not only the fleet's). */
export async function holdsData(db: mysql.Connection): Promise<boolean> {
  const [schemas] = await db.query<Row[]>('SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME NOT IN (?)', [[...SYSTEM_SCHEMAS]]);
  for (const s of schemas) if (await schemaHasRows(db, String(s.name))) return true;
  return false;
}

/** ON/OFF/1/0 as MariaDB prints booleans. */
export function isOn(value: string | undefined): boolean {
  return value === 'ON' || value === '1';
}
