/**
 * Bounded, steady user traffic through the business's domains, following the fleet: for each
 * service the edges forward to, the generic stand-in's writes, file uploads (services with
 * data folders) and domain-list reads, under the service's own path; where the seed's richer
 * variants run, their register, login, heartbeat, chat, upload and domain list. Open loop at `rate` requests per second (a dead
 * server does not slow the users down), stopped by `seconds` AND `maxRequests`, each
 * request bounded by `timeoutMs`. Every request is appended to `out` as it completes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { SERVICE_OF, type Ack, type Op, type SeedOp, type TrafficRecord } from './records.ts';
import { RequestFailed, send } from './http-client.ts';

/** A service behind the edges that runs the generic stand-in, and what it can take. */
export interface GenericTarget {
  service: string;
  /** Path prefix the edges route to it, ending in `/` (`/orders/`). */
  prefix: string;
  writes: boolean;
  files: boolean;
  domains: boolean;
}

/** What the traffic may use: the seed variants' operations present, and the generic services. */
export interface TrafficPlan {
  seed: SeedOp[];
  generic: GenericTarget[];
}

/** The seed's whole mix (its example fleet, and tests of the variants). */
export const SEED_PLAN: TrafficPlan = { seed: ['register', 'login', 'heartbeat', 'chat', 'upload', 'domains'], generic: [] };

export interface TrafficOptions {
  /** What to send; default the seed's whole mix. */
  plan?: TrafficPlan;
  /** Base URLs such as `http://api.example.com`; requests go round-robin over them. */
  urls: string[];
  seconds: number;
  /** Requests started per second. */
  rate: number;
  /** Hard cap on requests; default `seconds × rate`. */
  maxRequests?: number;
  timeoutMs?: number;
  /** JSONL file the records are appended to. */
  out: string;
  /** Called with each record (progress, tests). */
  onRecord?: (record: TrafficRecord) => void;
  /** Stops starting requests once aborted (those in flight still complete and are recorded). */
  signal?: AbortSignal;
}

export interface TrafficSummary { requests: number; ok: number; failed: number; skipped: number; acks: number; ms: number }

interface User { username: string; password: string; id?: number; token?: string }

// Relative frequency of each operation in the mix.
const SEED_WEIGHT: Record<SeedOp, number> = { register: 1, login: 1, heartbeat: 3, chat: 2, upload: 1, domains: 2 };
const GENERIC_WEIGHT = { write: 3, file: 1, 'list-domains': 1 } as const;

interface Choice { op: Op; weight: number; target?: GenericTarget }

function choices(plan: TrafficPlan): Choice[] {
  const list: Choice[] = plan.seed.map((op) => ({ op, weight: SEED_WEIGHT[op] }));
  for (const target of plan.generic) {
    if (target.writes) list.push({ op: 'write', weight: GENERIC_WEIGHT.write, target });
    if (target.files) list.push({ op: 'file', weight: GENERIC_WEIGHT.file, target });
    if (target.domains) list.push({ op: 'list-domains', weight: GENERIC_WEIGHT['list-domains'], target });
  }
  return list;
}

interface Planned {
  op: Op;
  service: string; method: 'GET' | 'POST'; path: string; body?: Buffer; contentType: string;
  onOk(json: unknown): Ack | undefined;
  /** A refused session (401): the app logs in again, as a real client would after a Redis switch. */
  onUnauthorized?(): void;
}

export async function runTraffic(options: TrafficOptions): Promise<TrafficSummary> {
  if (options.urls.length === 0) throw new Error('no base URL given');
  const mix = choices(options.plan ?? SEED_PLAN);
  if (mix.length === 0) throw new Error('nothing to send: the plan names no operation');
  const mixTotal = mix.reduce((sum, c) => sum + c.weight, 0);
  const timeoutMs = options.timeoutMs ?? 1000;
  const maxRequests = options.maxRequests ?? Math.ceil(options.seconds * options.rate);
  const maxInFlight = Math.max(4, Math.ceil(options.rate * (timeoutMs / 1000) * 2));
  const run = randomBytes(3).toString('hex');
  const users: User[] = [];
  let seq = 0;
  const out = createWriteStream(options.out, { flags: 'a' });
  const summary: TrafficSummary = { requests: 0, ok: 0, failed: 0, skipped: 0, acks: 0, ms: 0 };

  const json = (value: unknown) => Buffer.from(JSON.stringify(value));
  const pick = <T>(list: T[]) => list[Math.floor(Math.random() * list.length)];

  function plan(): Planned {
    let r = Math.random() * mixTotal;
    let choice = mix[0]!;
    for (const candidate of mix) if ((r -= candidate.weight) < 0) { choice = candidate; break; }
    const n = ++seq;
    if (choice.target) return planGeneric(choice.op, choice.target, n);
    return planSeed(choice.op as SeedOp, n);
  }

  function planGeneric(op: Op, target: GenericTarget, n: number): Planned {
    const service = target.service;
    switch (op) {
      case 'write':
        return { op, service, method: 'POST', path: `${target.prefix}lab/writes`, body: json({ note: `traffic ${run} ${n}` }), contentType: 'application/json',
          onOk: (j) => ({ kind: 'row', service, id: Number((j as { id: number }).id) }) };
      case 'file': {
        const data = randomBytes(256 + Math.floor(Math.random() * 3840));
        const name = `t-${run}-${n}.bin`;
        const sha256 = createHash('sha256').update(data).digest('hex');
        return { op, service, method: 'POST', path: `${target.prefix}lab/files?name=${name}`, body: data, contentType: 'application/octet-stream',
          onOk: (j) => ((j as { sha256?: string }).sha256 === sha256 ? { kind: 'file', service, name, sha256, bytes: data.length } : undefined) };
      }
      default:
        return { op: 'list-domains', service, method: 'GET', path: `${target.prefix}lab/domains`, contentType: '', onOk: () => undefined };
    }
  }

  function planSeed(chosen: SeedOp, n: number): Planned {
    let op: SeedOp = chosen;
    const registered = users.filter((u) => u.id !== undefined);
    const loggedIn = registered.filter((u) => u.token);
    if (op === 'heartbeat' && loggedIn.length === 0) op = registered.length ? 'login' : 'register';
    if (op === 'login' && registered.length === 0) op = 'register';
    const service = SERVICE_OF[op];
    switch (op) {
      case 'register': {
        const user: User = { username: `u-${run}-${n}`, password: randomBytes(6).toString('hex') };
        users.push(user);
        return { op, service, method: 'POST', path: '/api/register', body: json({ username: user.username, password: user.password }), contentType: 'application/json',
          onOk: (j) => { user.id = Number((j as { id: number }).id); return { kind: 'user', id: user.id, username: user.username }; } };
      }
      case 'login': {
        const user = pick(registered)!;
        return { op, service, method: 'POST', path: '/api/login', body: json({ username: user.username, password: user.password }), contentType: 'application/json',
          onOk: (j) => { user.token = String((j as { token: string }).token); return undefined; } };
      }
      case 'heartbeat': {
        const user = pick(loggedIn)!;
        return { op, service, method: 'POST', path: '/api/heartbeat', body: json({ token: user.token }), contentType: 'application/json',
          onOk: (j) => ({ kind: 'user_log', userId: user.id!, datestr: String((j as { datestr: string }).datestr) }),
          onUnauthorized: () => { delete user.token; } };
      }
      case 'chat':
        return { op, service, method: 'POST', path: '/chat/messages', body: json({ sender: `traffic-${run}`, body: `message ${n}` }), contentType: 'application/json',
          onOk: (j) => ({ kind: 'chat', id: Number((j as { id: number }).id) }) };
      case 'upload': {
        const data = randomBytes(256 + Math.floor(Math.random() * 3840));
        const name = `t-${run}-${n}.bin`;
        const sha256 = createHash('sha256').update(data).digest('hex');
        return { op, service, method: 'POST', path: `/upload/files?name=${name}`, body: data, contentType: 'application/octet-stream',
          // Acknowledged only when the service hashed the same bytes we sent.
          onOk: (j) => ((j as { sha256?: string }).sha256 === sha256 ? { kind: 'upload', name, sha256, bytes: data.length } : undefined) };
      }
      case 'domains':
        return { op, service, method: 'GET', path: '/admin/domains', contentType: '', onOk: () => undefined };
    }
  }

  async function one(base: string): Promise<void> {
    const p = plan();
    const t = Date.now();
    const record: TrafficRecord = { t, ms: 0, base, domain: new URL(base).hostname, service: p.service, op: p.op, ok: false };
    try {
      const answer = await send(new URL(p.path, base).toString(), p.method, p.body, p.contentType, timeoutMs);
      record.status = answer.status;
      if (answer.status >= 200 && answer.status < 300) {
        record.ok = true;
        const ack = p.onOk(p.op === 'domains' || p.op === 'list-domains' ? undefined : JSON.parse(answer.body.toString('utf8')));
        if (ack) record.ack = ack;
      } else {
        record.error = `HTTP_${answer.status}`;
        if (answer.status === 401) p.onUnauthorized?.();
      }
    } catch (error) {
      record.ok = false;
      record.error = error instanceof RequestFailed ? error.code : 'BAD_ANSWER';
    }
    record.ms = Date.now() - t;
    summary[record.ok ? 'ok' : 'failed'] += 1;
    if (record.ack) summary.acks += 1;
    out.write(`${JSON.stringify(record)}\n`);
    options.onRecord?.(record);
  }

  const started = Date.now();
  const inFlight = new Set<Promise<void>>();
  const interval = 1000 / options.rate;
  for (let i = 0; i < maxRequests; i++) {
    const due = started + i * interval;
    if (due - started >= options.seconds * 1000 || options.signal?.aborted) break;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    if (options.signal?.aborted) break;
    if (inFlight.size >= maxInFlight) { summary.skipped += 1; continue; }
    summary.requests += 1;
    const base = options.urls[i % options.urls.length]!;
    const p = one(base).finally(() => inFlight.delete(p));
    inFlight.add(p);
  }
  await Promise.all(inFlight);
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
  summary.ms = Date.now() - started;
  return summary;
}
