/**
 * What a users'-side probe and the daemon say to each other, and how it is signed. The probe
 * holds only the daemon's URL and a shared token: it asks the daemon what to check
 * (`GET /probe/targets`) and pushes what it saw (`POST /probe/report`). Every request carries
 * `X-Lifeboat-Time` (ms since the epoch) and `X-Lifeboat-Signature: sha256=<hex>`, the
 * HMAC-SHA256 under the token of `METHOD\nPATH\nTIME\nBODY`: a report cannot be forged or
 * replayed to another path, and one older than `MAX_SKEW_MS` is refused, so a captured one
 * cannot be replayed later either.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

export const TARGETS_PATH = '/probe/targets';
export const REPORT_PATH = '/probe/report';
export const MAX_SKEW_MS = 120_000;
/** A report is at most this big: a probe of a small fleet sends a few KiB. */
export const MAX_BODY_BYTES = 256 * 1024;

export function signature(token: string, method: string, path: string, time: string, body: string): string {
  return `sha256=${createHmac('sha256', token).update(`${method}\n${path}\n${time}\n${body}`).digest('hex')}`;
}

export type SignatureProblem = 'missing' | 'stale' | 'wrong';

/** Checks a request's signature; undefined when it is good. */
export function checkSignature(token: string, method: string, path: string, headers: { time?: string; signature?: string }, body: string, now = Date.now()): SignatureProblem | undefined {
  if (!headers.time || !headers.signature) return 'missing';
  const time = Number(headers.time);
  if (!Number.isFinite(time) || Math.abs(now - time) > MAX_SKEW_MS) return 'stale';
  const want = Buffer.from(signature(token, method, path, headers.time, body));
  const got = Buffer.from(headers.signature);
  return want.length === got.length && timingSafeEqual(want, got) ? undefined : 'wrong';
}

/** What the daemon asks the users' side to check: every address users reach, every domain. */
export const probeTargetsSchema = z.object({
  fleet: z.string(),
  intervalS: z.number().positive(),
  timeoutMs: z.number().int().positive(),
  ports: z.array(z.object({ machine: z.string(), address: z.string(), port: z.number().int().min(1).max(65535) })).max(10_000),
  domains: z.array(z.string().min(1).max(253)).max(10_000),
});
export type ProbeTargets = z.infer<typeof probeTargetsSchema>;

const portSeen = z.enum(['open', 'refused', 'silent', 'unreachable', 'error']);
export const probeReportSchema = z.strictObject({
  probe: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
  ports: z.array(z.strictObject({ machine: z.string().max(64), address: z.string().max(64), port: z.number().int().min(1).max(65535), seen: portSeen })).max(10_000),
  names: z.array(z.strictObject({
    domain: z.string().min(1).max(253),
    addresses: z.array(z.string().max(64)).max(64).optional(),
    error: z.string().max(200).optional(),
    /** GET / through the domain as an app would (its resolver, its Host): status or why not. */
    http: z.strictObject({ status: z.number().int().optional(), error: z.string().max(200).optional() }).optional(),
  })).max(10_000),
});
export type ProbeReport = z.infer<typeof probeReportSchema>;
