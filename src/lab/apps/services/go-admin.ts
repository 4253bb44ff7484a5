/**
 * go-admin stand-in: the domain list the app clients fetch (`t_app_dns` rows online) and
 * the two switches the runbook flips by hand in SQL (seed §4.3 step 4).
 */
import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type { ServiceConfig } from '../config.ts';
import { check, createMysqlPool, query } from '../clients.ts';
import { field } from '../http.ts';
import type { RunningService, StartService } from '../service.ts';

type AdminConfig = Extract<ServiceConfig, { service: 'go-admin' }>;
export const STATUS = { online: 1, offline: 2 } as const;

export const startGoAdmin: StartService<AdminConfig> = async (config, log) => {
  const pool = createMysqlPool(config.mysql);

  const setStatus = (status: number) => async (req: { json(): Promise<Record<string, unknown>> }) => {
    const ip = field(await req.json(), 'ip', 45);
    const result = await query<ResultSetHeader>(pool, 'UPDATE t_app_dns SET status = ? WHERE ip = ?', [status, ip]);
    log(`domains of ${ip} set to status ${status}: ${result.affectedRows} row(s)`);
    return { json: { ip, status, changed: result.affectedRows } };
  };

  const running: RunningService = {
    routes: [
      {
        method: 'GET', path: '/admin/domains', handler: async () => {
          const rows = await query<RowDataPacket[]>(pool,
            'SELECT domain, ip FROM t_app_dns WHERE status = ? ORDER BY domain', [STATUS.online]);
          return { json: { domains: rows.map((r) => ({ domain: String(r.domain), ip: String(r.ip) })) } };
        },
      },
      { method: 'POST', path: '/admin/domains/offline', handler: setStatus(STATUS.offline) },
      { method: 'POST', path: '/admin/domains/online', handler: setStatus(STATUS.online) },
    ],
    health: async () => ({ mysql: await check(() => query(pool, 'SELECT 1', [], 1000)) }),
    close: () => pool.end(),
  };
  return running;
};
