/**
 * Split-brain evidence for go-job: two runs from different hosts whose time spans overlap
 * mean two schedulers were active at once. Runs never finished (the host died mid-run)
 * have no known end and are not counted.
 */
import type { Connection, Pool, RowDataPacket } from 'mysql2/promise';

/** Number of overlapping pairs of finished runs from different hosts, since `since` if given. */
export async function countOverlappingRuns(sql: Connection | Pool, since?: Date): Promise<number> {
  const [rows] = await sql.query<RowDataPacket[]>(
    'SELECT COUNT(*) AS n FROM speed.job_runs a JOIN speed.job_runs b ' +
      'ON a.id < b.id AND a.host <> b.host ' +
      'AND a.started_at < b.finished_at AND b.started_at < a.finished_at ' +
      'WHERE a.finished_at IS NOT NULL AND b.finished_at IS NOT NULL AND a.started_at >= ? AND b.started_at >= ?',
    [since ?? new Date(0), since ?? new Date(0)],
  );
  return Number(rows[0]?.n ?? 0);
}
