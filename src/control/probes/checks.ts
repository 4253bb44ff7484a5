/**
 * The probes' checks, each one network exchange: a TCP connect, an HTTP(S) request to an
 * address with the domain's real Host (and SNI), a name resolved as an app would. What they
 * return keeps the difference that matters for a verdict: a port that REFUSES answered (the
 * machine is there, nothing listens), one that stays silent until the time-out may be
 * blocked on the way. Every check stops when its signal aborts.
 */
import { lookup } from 'node:dns/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect, isIP } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';

export type PortState = 'open' | 'refused' | 'unreachable';

/** Opens and closes a TCP connection. A silent port is the caller's time-out, not a state. */
export function tcpCheck(address: string, port: number, signal: AbortSignal): Promise<PortState> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: address, port });
    const done = (fn: () => void) => {
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      fn();
    };
    const onAbort = () => done(() => reject(new Error('aborted')));
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => done(() => resolve('open')));
    socket.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNREFUSED') done(() => resolve('refused'));
      else if (error.code === 'EHOSTUNREACH' || error.code === 'ENETUNREACH') done(() => resolve('unreachable'));
      else done(() => reject(error));
    });
  });
}

export interface HttpCheck {
  /** Where to connect: an IP address (a vantage point checks one edge, not whatever DNS says). */
  address: string;
  port: number;
  /** The domain: sent as Host, and as SNI over TLS. */
  host: string;
  path: string;
  tls: boolean;
}

export interface HttpAnswer {
  status: number;
  /** Days until the served certificate expires (TLS only). */
  certDaysLeft?: number;
}

/** One request; the body is read and dropped. A certificate that does not verify is an error. */
export function httpCheck(c: HttpCheck, signal: AbortSignal): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const request = c.tls ? httpsRequest : httpRequest;
    const req = request({
      host: c.address, port: c.port, path: c.path, method: 'GET', signal, agent: false,
      headers: { host: c.host, 'user-agent': 'lifeboat-probe', connection: 'close' },
      ...(c.tls ? { servername: isIP(c.host) ? undefined : c.host } : {}),
    }, (res) => {
      const answer: HttpAnswer = { status: res.statusCode ?? 0 };
      if (c.tls) {
        const cert = (res.socket as TLSSocket).getPeerCertificate?.();
        if (cert?.valid_to) answer.certDaysLeft = Math.floor((Date.parse(cert.valid_to) - Date.now()) / 86_400_000);
      }
      res.resume();
      res.once('end', () => resolve(answer));
      res.once('error', reject);
    });
    req.once('error', reject);
    req.end();
  });
}

/** The addresses a name resolves to through the machine's own resolver (getaddrinfo), sorted. */
export async function resolveCheck(name: string, signal: AbortSignal): Promise<string[]> {
  const answer = lookup(name, { all: true, family: 4 });
  const aborted = new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true }));
  const addresses = await Promise.race([answer, aborted]);
  return addresses.map((a) => a.address).sort();
}

/**
 * The certificate a TLS server presents for `servername`, read without trusting it (an
 * expired or self-signed one is what this check is for): days until it expires, and whether
 * it verified.
 */
export function certCheck(address: string, port: number, servername: string, signal: AbortSignal): Promise<{ daysLeft: number; authorized: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: address, port, servername, rejectUnauthorized: false }, () => {
      signal.removeEventListener('abort', onAbort);
      const cert = socket.getPeerCertificate();
      const authorized = socket.authorized;
      socket.destroy();
      if (!cert?.valid_to) return reject(new Error('no certificate presented'));
      resolve({ daysLeft: Math.floor((Date.parse(cert.valid_to) - Date.now()) / 86_400_000), authorized });
    });
    const onAbort = () => {
      socket.destroy();
      reject(new Error('aborted'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('error', (error) => {
      signal.removeEventListener('abort', onAbort);
      reject(error);
    });
  });
}
