/**
 * go-job stand-in: the fleet's singleton scheduler. Every `intervalSeconds` it expires the
 * users whose `expires_at` passed and records the run in `job_runs` (host, start, finish,
 * database clock with microseconds), so a drill can prove exactly one go-job ran at a time
 * (see `countOverlappingRuns` in ../job-runs.ts).
 */
import { hostname } from 'node:os';
import type { ResultSetHeader } from 'mysql2/promise';
import type { ServiceConfig } from '../config.ts';
import { check, createMysqlPool, query } from '../clients.ts';
import { runEvery } from '../periodic.ts';
import type { RunningService, StartService } from '../service.ts';

type JobConfig = Extract<ServiceConfig, { service: 'go-job' }>;

export const startGoJob: StartService<JobConfig> = async (config, log) => {
  const pool = createMysqlPool(config.mysql);
  const host = hostname();
  // A run holds for `busySeconds` like a real batch does.
  const runs = runEvery(config.intervalSeconds * 1000, async (hold) => {
    const started = Date.now();
    const run = await query<ResultSetHeader>(pool, 'INSERT INTO job_runs (host, started_at) VALUES (?, NOW(6))', [host]);
    const expired = await query<ResultSetHeader>(pool,
      'UPDATE users SET expired = 1 WHERE expired = 0 AND expires_at <= NOW()');
    await hold(config.busySeconds * 1000 - (Date.now() - started));
    await query(pool, 'UPDATE job_runs SET finished_at = NOW(6), expired_users = ? WHERE id = ?',
      [expired.affectedRows, run.insertId]);
    if (expired.affectedRows > 0) log(`run ${run.insertId}: expired ${expired.affectedRows} user(s)`);
  }, log);

  const running: RunningService = {
    routes: [],
    health: async () => ({
      mysql: await check(() => query(pool, 'SELECT 1', [], 1000)),
      job: runs.lastError() === undefined ? 'ok' : `failed: ${runs.lastError()}`,
    }),
    close: async () => {
      await runs.stop();
      await pool.end();
    },
  };
  return running;
};
