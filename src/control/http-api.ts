/**
 * The daemon's HTTP side (`lifeboat serve --listen HOST:PORT`): `GET /metrics` (Prometheus),
 * `GET /healthz`, and for users'-side probes `GET /probe/targets` and `POST /probe/report`,
 * both signed (users-side/protocol.ts). The API never acts: a report is stored and the loop
 * reads it on its next round.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { WatchMetrics } from './metrics.ts';
import { checkSignature, MAX_BODY_BYTES, probeReportSchema, REPORT_PATH, TARGETS_PATH, type ProbeTargets } from './users-side/protocol.ts';
import type { UsersSideStore } from './users-side/store.ts';

export interface ApiOptions {
  metrics: WatchMetrics;
  usersSide?: { token: string; targets: ProbeTargets; store: UsersSideStore };
  /** Told of refused probe requests (a wrong token is worth a line in the log). */
  log?: (line: string) => void;
}

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new BodyTooLarge());
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
  });
}

const json = (res: ServerResponse, status: number, body: unknown) =>
  void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body) + '\n');

async function handle(o: ApiOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method === 'GET' && path === '/metrics') {
    const text = await o.metrics.text();
    return void res.writeHead(200, { 'content-type': o.metrics.registry.contentType }).end(text);
  }
  if (req.method === 'GET' && path === '/healthz') return void res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
  const probeRoute = (req.method === 'GET' && path === TARGETS_PATH) || (req.method === 'POST' && path === REPORT_PATH);
  if (!probeRoute) return json(res, 404, { error: 'not found' });
  if (!o.usersSide) return json(res, 404, { error: "this daemon takes no users'-side reports: the fleet file has no watch.usersSide" });
  let body: string;
  try {
    body = await readBody(req);
  } catch (error) {
    if (error instanceof BodyTooLarge) return json(res, 413, { error: `a report is at most ${MAX_BODY_BYTES} bytes` });
    throw error;
  }
  const header = (name: string) => (typeof req.headers[name] === 'string' ? (req.headers[name] as string) : undefined);
  const problem = checkSignature(o.usersSide.token, req.method!, path!, { time: header('x-lifeboat-time'), signature: header('x-lifeboat-signature') }, body);
  if (problem) {
    o.log?.(`refused a users'-side probe request from ${req.socket.remoteAddress}: signature ${problem}`);
    return json(res, 401, { error: `signature ${problem}`, hint: problem === 'stale' ? "the probe's clock is more than 2 minutes off the daemon's" : 'the probe\'s token is not watch.usersSide.token' });
  }
  if (req.method === 'GET') return json(res, 200, o.usersSide.targets);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return json(res, 400, { error: 'the report is not JSON' });
  }
  const report = probeReportSchema.safeParse(parsed);
  if (!report.success) return json(res, 400, { error: `bad report: ${report.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` });
  o.usersSide.store.add(report.data);
  res.writeHead(204).end();
}

export async function serveApi(o: ApiOptions, host: string, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    handle(o, req, res).catch((error: unknown) => {
      if (!res.headersSent) json(res, 500, { error: (error as Error).message });
      else res.destroy();
    });
  });
  // Slow or idle clients must not hold sockets open forever.
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
