/**
 * One request, one fresh connection: every request resolves the domain again through the
 * system resolver (the lab client's resolv.conf points at the lab BIND), the way a new app
 * client would, so a DNS or upstream switch shows up at once. Bounded by `timeoutMs` overall.
 */
import { request } from 'node:http';

export interface HttpAnswer { status: number; body: Buffer }

export class RequestFailed extends Error {
  override name = 'RequestFailed';
  /** An errno code (ECONNREFUSED, ENOTFOUND, EHOSTUNREACH...) or TIMEOUT. */
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

export function send(url: string, method: 'GET' | 'POST', body: Buffer | undefined, contentType: string, timeoutMs: number): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method,
      agent: false,
      headers: body ? { 'content-type': contentType, 'content-length': body.length } : {},
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) });
      });
      res.on('error', (e: NodeJS.ErrnoException) => fail(e.code ?? 'ERESPONSE', e.message));
    });
    const fail = (code: string, message: string) => {
      clearTimeout(timer);
      reject(new RequestFailed(code, message));
    };
    const timer = setTimeout(() => {
      req.destroy();
      fail('TIMEOUT', `no answer within ${timeoutMs} ms`);
    }, timeoutMs);
    req.on('error', (e: NodeJS.ErrnoException) => fail(e.code ?? 'EREQUEST', e.message));
    req.end(body);
  });
}
