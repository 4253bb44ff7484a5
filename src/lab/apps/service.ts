/** The contract every stand-in implements, and the runtime that serves one. */
import type { Server } from 'node:http';
import type { Address, ServiceConfig } from './config.ts';
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
  /** One server per port the service answers on (none for a service without a port). */
  servers: Server[];
  /** Graceful stop: no new requests, in-flight ones finish, clients closed. */
  close(): Promise<void>;
}

export interface ServeOptions {
  /** The service's name, in /healthz answers. */
  name: string;
  listen: Address[];
  /** The health check's path and the status a healthy service answers with. */
  healthPath?: string;
  healthyStatus?: number;
}

/** Serves `running` plus its health check on every address of `options.listen`. */
export async function serveRunning(options: ServeOptions, running: RunningService, log: Log): Promise<StandIn> {
  const healthz: Route = {
    method: 'GET',
    path: options.healthPath ?? '/healthz',
    handler: async () => {
      const checks = await running.health();
      const ok = Object.values(checks).every((v) => v === 'ok');
      return { status: ok ? options.healthyStatus ?? 200 : 503, json: { ok, service: options.name, checks } };
    },
  };
  const servers: Server[] = [];
  try {
    for (const listen of options.listen) {
      servers.push(await serve(listen, [healthz, ...running.routes], log));
      log(`listening on ${listen.host || '*'}:${listen.port}`);
    }
  } catch (error) {
    await Promise.all(servers.map(closeServer));
    await running.close();
    throw error;
  }
  return {
    servers,
    close: async () => {
      await Promise.all(servers.map(closeServer));
      await running.close();
    },
  };
}

/** Serves a named stand-in on its configured address, health at GET /healthz. */
export function serveStandIn(config: ServiceConfig, running: RunningService, log: Log): Promise<StandIn> {
  return serveRunning({ name: config.service, listen: [config.listen] }, running, log);
}

export function logger(service: string): Log {
  return (message) => process.stdout.write(`${new Date().toISOString()} ${service} ${message}\n`);
}
