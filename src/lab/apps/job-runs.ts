/**
 * Split-brain evidence for singletons: two runs of one singleton from different hosts whose
 * time spans overlap mean two copies were active at once. Runs never finished (the host died
 * mid-run) have no known end and are not counted. Both run logs are read where they exist:
 * the generic stand-ins' (`lifeboat_lab_runs`, per service) and the seed's go-job's (`job_runs`).
 */
import type { Connection, Pool, RowDataPacket } from 'mysql2/promise';
import { LAB_RUNS_TABLE } from './generic-spec.ts';

const id = (name: string) => `\`${name.replace(/`/g, '``')}\``;

async function tableExists(sql: Connection | Pool, schema: string, table: string): Promise<boolean> {
  const [rows] = await sql.query<RowDataPacket[]>(
    'SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [schema, table]);
  return Number(rows[0]?.n ?? 0) > 0;
}

/** Number of overlapping pairs of finished runs from different hosts, since `since` if given. */
export async function countOverlappingRuns(sql: Connection | Pool, schema: string, since?: Date): Promise<number> {
  const from = since ?? new Date(0);
  let pairs = 0;
  const overlap = 'a.id < b.id AND a.host <> b.host AND a.started_at < b.finished_at AND b.started_at < a.finished_at ' +
    'WHERE a.finished_at IS NOT NULL AND b.finished_at IS NOT NULL AND a.started_at >= ? AND b.started_at >= ?';
  if (await tableExists(sql, schema, LAB_RUNS_TABLE)) {
    const t = `${id(schema)}.${id(LAB_RUNS_TABLE)}`;
    const [rows] = await sql.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${t} a JOIN ${t} b ON a.service = b.service AND ${overlap}`, [from, from]);
    pairs += Number(rows[0]?.n ?? 0);
  }
  if (await tableExists(sql, schema, 'job_runs')) {
    const t = `${id(schema)}.job_runs`;
    const [rows] = await sql.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${t} a JOIN ${t} b ON ${overlap}`, [from, from]);
    pairs += Number(rows[0]?.n ?? 0);
  }
  return pairs;
}
