/**
 * The daemon's HTTP side (`lifeboat serve --listen HOST:PORT`), one Hono app:
 * - `GET /healthz`, open to all; `GET /metrics` (Prometheus), open unless the fleet sets
 *   `watch.metricsToken`, then only with that bearer token or a dashboard session;
 * - for users'-side probes `GET /probe/targets` and `POST /probe/report`, signed
 *   (users-side/protocol.ts): a report is stored and the loop reads it on its next round;
 * - the dashboard (web/routes.ts) when the daemon has one: login, the page, its live view,
 *   approving and rejecting plans. Everything of it needs a session.
 * Served over HTTPS when given a certificate.
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer as createHttps } from 'node:https';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { WatchMetrics } from './metrics.ts';
import { checkSignature, MAX_BODY_BYTES, probeReportSchema, REPORT_PATH, TARGETS_PATH, type ProbeTargets } from './users-side/protocol.ts';
import type { UsersSideStore } from './users-side/store.ts';
import { dashboardRoutes, sessionOf, type DashboardOptions } from './web/routes.ts';

export interface ApiOptions {
  metrics: WatchMetrics;
  usersSide?: { token: string; targets: ProbeTargets; store: UsersSideStore };
  /** Told of refused requests (a wrong token is worth a line in the log). */
  log?: (line: string) => void;
  dashboard?: DashboardOptions;
  /** When set, `/metrics` needs `Authorization: Bearer <token>` (or a dashboard session). */
  metricsToken?: string;
}

export interface TlsFiles {
  cert: string | Buffer;
  key: string | Buffer;
}

const sameSecret = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

export function apiApp(o: ApiOptions, secure = false): Hono {
  const app = new Hono();
  app.get('/healthz', (c) => c.text('ok\n'));
  app.get('/metrics', async (c) => {
    if (o.metricsToken !== undefined) {
      const bearer = /^Bearer (.+)$/.exec(c.req.header('authorization') ?? '')?.[1];
      const allowed = (bearer !== undefined && sameSecret(bearer, o.metricsToken)) || (o.dashboard !== undefined && sessionOf(c, o.dashboard) !== undefined);
      if (!allowed) return c.json({ error: 'metrics need the bearer token (watch.metricsToken) or a dashboard session' }, 401);
    }
    return c.body(await o.metrics.text(), 200, { 'content-type': o.metrics.registry.contentType });
  });
  const probe = async (c: Context) => {
    if (!o.usersSide) return c.json({ error: "this daemon takes no users'-side reports: the fleet file has no watch.usersSide" }, 404);
    const body = await c.req.text();
    const path = new URL(c.req.url).pathname;
    const problem = checkSignature(o.usersSide.token, c.req.method, path, { time: c.req.header('x-lifeboat-time'), signature: c.req.header('x-lifeboat-signature') }, body);
    if (problem) {
      o.log?.(`refused a users'-side probe request: signature ${problem}`);
      return c.json({ error: `signature ${problem}`, hint: problem === 'stale' ? "the probe's clock is more than 2 minutes off the daemon's" : "the probe's token is not watch.usersSide.token" }, 401);
    }
    if (c.req.method === 'GET') return c.json(o.usersSide.targets);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return c.json({ error: 'the report is not JSON' }, 400);
    }
    const report = probeReportSchema.safeParse(parsed);
    if (!report.success) return c.json({ error: `bad report: ${report.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` }, 400);
    o.usersSide.store.add(report.data);
    return c.body(null, 204);
  };
  app.get(TARGETS_PATH, probe);
  // The rest of an oversized body is not read: the connection closes after the answer.
  app.post(REPORT_PATH, bodyLimit({ maxSize: MAX_BODY_BYTES, onError: (c) => c.json({ error: `a report is at most ${MAX_BODY_BYTES} bytes` }, 413, { connection: 'close' }) }), probe);
  if (o.dashboard) app.route('/', dashboardRoutes(o.dashboard, secure));
  else app.all('*', (c) => c.json({ error: 'not found' }, 404));
  app.onError((error, c) => {
    o.log?.(`HTTP ${c.req.method} ${new URL(c.req.url).pathname} failed: ${error.message}`);
    return c.json({ error: error.message }, 500);
  });
  return app;
}

export async function serveApi(o: ApiOptions, host: string, port: number, tls?: TlsFiles): Promise<Server> {
  const app = apiApp(o, tls !== undefined);
  const server = (tls
    ? createAdaptorServer({ fetch: app.fetch, createServer: createHttps, serverOptions: { cert: tls.cert, key: tls.key } })
    : createAdaptorServer({ fetch: app.fetch })) as Server;
  // Slow or idle clients must not hold sockets open forever. (This bounds receiving a
  // request; the live view's long response is not one.)
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}

export function listeningPort(server: Server): number {
  return (server.address() as AddressInfo).port;
}
