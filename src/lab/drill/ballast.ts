/**
 * `drill --db-size MB`: the fleet's database grown to about MB megabytes before `prepare`, so
 * a drill measures a recovery that has gigabytes to move (the seed's databases are not toy
 * sized). The rows are random bytes: incompressible, the worst case for every copy. They
 * are written with sql_log_bin = 0 before the replica exists: `prepare` seeds it with them,
 * the backup carries them, and no binary log of a gigabyte fills the primary's disk.
 * After the recovery the serving database must hold every one of them.
 */
import type { Fleet } from '../../fleet/schema.ts';
import { resizeHostDisk } from '../host-disk.ts';
import type { Lab } from '../lab.ts';

export const BALLAST_TABLE = 'lifeboat_drill_ballast';
const ROW_BYTES = 1000;
const ROWS_PER_STATEMENT = 50_000;

export interface Ballast {
  rows: number;
  /** The schema's size on the primary afterwards (data and indexes, InnoDB's figure). */
  databaseMb: number;
}

/** Room for the data, its copies on the way (work folder, compressed copy) and the data folder it becomes. */
export function diskFor(mb: number): string {
  return `${2048 + 4 * mb}m`;
}

export async function addBallast(lab: Lab, fleet: Fleet, mb: number, log: (line: string) => void): Promise<Ballast> {
  const schema = fleet.database?.schema;
  const primary = fleet.machines.find((m) => m.roles.includes('db-primary'))?.name;
  if (!schema || !primary) throw new Error('--db-size needs a database and a db-primary in the fleet file');
  // The operator's host too: an off-site copy is sealed (and opened) on its disk.
  for (const h of lab.hosts) if (h.kind === 'fleet' || h.kind === 'spare' || h.kind === 'ops') await resizeHostDisk(lab.paths.host(h.name), diskFor(mb));
  const rows = Math.ceil((mb * 1024 * 1024) / ROW_BYTES);
  const started = performance.now();
  const sql = (text: string) => lab.exec(primary, `mariadb -N -B ${schema}`, { stdin: `SET SESSION sql_log_bin = 0;\n${text}`, timeoutMs: 600_000 });
  const must = async (text: string) => {
    const r = await sql(text);
    if (r.code !== 0) throw new Error(`${primary}: growing the database failed: ${r.stderr.trim()}`);
    return r.stdout.trim().split('\n').at(-1) ?? '';
  };
  await must(`CREATE TABLE IF NOT EXISTS ${BALLAST_TABLE} (id INT UNSIGNED PRIMARY KEY, b VARBINARY(${ROW_BYTES}) NOT NULL) ENGINE=InnoDB;`);
  for (let from = 1; from <= rows; from += ROWS_PER_STATEMENT) {
    const to = Math.min(rows, from + ROWS_PER_STATEMENT - 1);
    await must(`INSERT INTO ${BALLAST_TABLE} SELECT seq, RANDOM_BYTES(${ROW_BYTES}) FROM seq_${from}_to_${to};`);
  }
  // InnoDB's sizes in information_schema are estimates until the table's statistics are read again.
  await must(`ANALYZE TABLE ${BALLAST_TABLE};`);
  const size = Number(await must(`SELECT ROUND(SUM(data_length + index_length) / 1048576) FROM information_schema.tables WHERE table_schema = DATABASE();`));
  log(`  database grown to ${size} MB (${rows} rows of ${ROW_BYTES} random bytes) on ${primary} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return { rows, databaseMb: size };
}

/** Rows of the ballast the serving database holds: all of them, or the recovery lost data. */
export async function ballastRows(lab: Lab, host: string, schema: string): Promise<number | undefined> {
  const r = await lab.exec(host, `mariadb -N -B ${schema}`, { stdin: `SELECT COUNT(*) FROM ${BALLAST_TABLE};`, timeoutMs: 120_000 });
  return r.code === 0 ? Number(r.stdout.trim()) : undefined;
}
