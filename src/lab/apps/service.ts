/** The contract every stand-in implements, and the runtime that serves one. */
import type { Server } from 'node:http';
import type { ServiceConfig, ServiceName } from './config.ts';
import { closeServer, serve, type Log, type Route } from './http.ts';

export interface RunningService {
  routes: Route[];
  /** Check name → `ok` or `failed: reason`; /healthz answers 200 only when all are ok. */
  health(): Promise<Record<string, string>>;
  /** Stops background work and closes clients; called after the HTTP server closed. */
  close(): Promise<void>;
}

export type StartService<C extends ServiceConfig> = (config: C, log: Log) => Promise<RunningService>;

export interface StandIn {
  server: Server;
  /** Graceful stop: no new requests, in-flight ones finish, clients closed. */
  close(): Promise<void>;
}

/** Serves `running` plus GET /healthz on the configured address. */
export async function serveStandIn(config: ServiceConfig, running: RunningService, log: Log): Promise<StandIn> {
  const healthz: Route = {
    method: 'GET',
    path: '/healthz',
    handler: async () => {
      const checks = await running.health();
      const ok = Object.values(checks).every((v) => v === 'ok');
      return { status: ok ? 200 : 503, json: { ok, service: config.service, checks } };
    },
  };
  let server: Server;
  try {
    server = await serve(config.listen, [healthz, ...running.routes], log);
  } catch (error) {
    await running.close();
    throw error;
  }
  log(`listening on ${config.listen.host || '*'}:${config.listen.port}`);
  return {
    server,
    close: async () => {
      await closeServer(server);
      await running.close();
    },
  };
}

export function logger(service: ServiceName): Log {
  return (message) => process.stdout.write(`${new Date().toISOString()} ${service} ${message}\n`);
}
