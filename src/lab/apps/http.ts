/**
 * The little HTTP layer the stand-ins share (node:http, no framework): a route table,
 * JSON in and out with a body size limit, typed errors mapped to status codes, one log
 * line per request, and a close that drains open connections.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Address } from './config.ts';

export type Log = (message: string) => void;

/** An error a handler throws to answer with `status` and a machine-readable `code`. */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

export interface AppRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  /** Groups captured by the route's RegExp. */
  params: string[];
  headers: IncomingMessage['headers'];
  /** The user's address: X-Real-IP or the first X-Forwarded-For set by the edge, else the peer. */
  ip: string;
  body(limit?: number): Promise<Buffer>;
  json(): Promise<Record<string, unknown>>;
}

export interface Reply {
  status?: number;
  json?: unknown;
  body?: Buffer;
  contentType?: string;
}

export interface Route {
  method: 'GET' | 'POST';
  path: string | RegExp;
  handler(req: AppRequest): Promise<Reply>;
}

const JSON_LIMIT = 64 * 1024;

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        // Drain the rest without keeping it, so the 413 can still be sent on this socket.
        req.off('data', onData);
        req.resume();
        reject(new HttpError(413, 'TOO_LARGE', `body over ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function match(route: Route, method: string, path: string): string[] | null {
  if (route.method !== method) return null;
  if (typeof route.path === 'string') return route.path === path ? [] : null;
  const m = route.path.exec(path);
  return m ? m.slice(1).map((g) => decodeURIComponent(g ?? '')) : null;
}

/** Starts listening; resolves once bound. `listen.host` '' means every interface. */
export async function serve(listen: Address, routes: Route[], log: Log): Promise<Server> {
  const server = createServer((req, res) => {
    const started = Date.now();
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const method = req.method ?? 'GET';
    const send = (status: number, body: Buffer, contentType: string) => {
      res.writeHead(status, { 'content-type': contentType, 'content-length': body.length });
      res.end(body);
      log(`${method} ${url.pathname} ${status} ${Date.now() - started}ms`);
    };
    const sendJson = (status: number, value: unknown) =>
      send(status, Buffer.from(JSON.stringify(value)), 'application/json');
    let params: string[] | null = null;
    const route = routes.find((r) => (params = match(r, method, url.pathname)) !== null);
    if (!route || !params) return sendJson(404, { error: 'NOT_FOUND' });
    const forwarded = req.headers['x-real-ip'] ?? req.headers['x-forwarded-for'];
    const realIp = typeof forwarded === 'string' ? forwarded.split(',')[0]!.trim() : undefined;
    const appReq: AppRequest = {
      method, path: url.pathname, query: url.searchParams, params, headers: req.headers,
      ip: realIp || req.socket.remoteAddress || '',
      body: (limit = JSON_LIMIT) => readBody(req, limit),
      json: async () => {
        const raw = await readBody(req, JSON_LIMIT);
        let value: unknown;
        try {
          value = JSON.parse(raw.toString('utf8') || '{}');
        } catch {
          throw new HttpError(400, 'BAD_JSON', 'body is not JSON');
        }
        if (typeof value !== 'object' || value === null || Array.isArray(value)) {
          throw new HttpError(400, 'BAD_JSON', 'body must be a JSON object');
        }
        return value as Record<string, unknown>;
      },
    };
    route.handler(appReq).then(
      (reply) => {
        if (reply.body) send(reply.status ?? 200, reply.body, reply.contentType ?? 'application/octet-stream');
        else sendJson(reply.status ?? 200, reply.json ?? {});
      },
      (error: unknown) => {
        if (error instanceof HttpError) return sendJson(error.status, { error: error.code, message: error.message });
        log(`error in ${method} ${url.pathname}: ${(error as Error).message}`);
        sendJson(503, { error: 'UNAVAILABLE' });
      },
    );
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host || undefined, () => resolve());
  });
  return server;
}

/** Stops accepting, lets in-flight requests finish, then drops idle keep-alive sockets. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}

/** A string field of a JSON body, trimmed and bounded; 400 when absent or wrong. */
export function field(body: Record<string, unknown>, name: string, max: number): string {
  const value = body[name];
  if (typeof value !== 'string' || value.length === 0 || value.length > max) {
    throw new HttpError(400, 'BAD_FIELD', `${name}: expected a string of 1..${max} characters`);
  }
  return value;
}
