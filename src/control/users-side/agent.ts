/**
 * The users'-side probe (`lifeboat probe --push URL --token REF`): a small process on a machine
 * inside the users' network. Each round it asks the daemon what to check, connects to every
 * address and port users reach, resolves every domain through its own resolver and fetches it
 * as an app would, then pushes the signed report. It holds nothing of the fleet but the URL and
 * the token, so a cheap VPS or an office PC can run it.
 *
 * A daemon it cannot reach or that refuses its token at the start is bad input (nothing is
 * probed); later, a failed push is logged and the next round tries again: the daemon may be
 * restarting, and it is the daemon's job to notice a silent probe.
 */
import { fanOut } from '../../remote/fanout.ts';
import type { NameView, PortSeen, PortView } from '../../health/reachability.ts';
import { httpCheck, resolveCheck, tcpCheck } from '../probes/checks.ts';
import { probeTargetsSchema, REPORT_PATH, signature, TARGETS_PATH, type ProbeReport, type ProbeTargets } from './protocol.ts';

export class ProbeAgentError extends Error {
  override name = 'ProbeAgentError';
  constructor(readonly code: 'unreachable' | 'refused' | 'bad-answer', message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export interface AgentOptions {
  url: string;
  token: string;
  /** This probe's name in the daemon's evidence (default: the host name). */
  name: string;
  /** Checks in flight at once. */
  limit?: number;
}

const REQUEST_TIMEOUT_MS = 10_000;

async function call(o: AgentOptions, method: 'GET' | 'POST', path: string, body = ''): Promise<Response> {
  const url = new URL(path, o.url);
  const time = String(Date.now());
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: { 'x-lifeboat-time': time, 'x-lifeboat-signature': signature(o.token, method, path, time, body), 'content-type': 'application/json' },
      ...(method === 'POST' ? { body } : {}),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (cause) {
    // fetch wraps the socket's error (ECONNREFUSED, EHOSTUNREACH…) as its cause.
    const inner = (cause as { cause?: { code?: string; message?: string } }).cause;
    const reason = inner?.code ?? inner?.message ?? ((cause as Error).name === 'TimeoutError' ? `no answer in ${REQUEST_TIMEOUT_MS / 1000} s` : (cause as Error).message);
    throw new ProbeAgentError('unreachable', `cannot reach the daemon at ${url.origin}: ${reason}`, { cause });
  }
  if (response.status === 401) {
    const answer = (await response.json().catch(() => ({}))) as { error?: string; hint?: string };
    throw new ProbeAgentError('refused', `the daemon at ${url.origin} refused this probe: ${answer.error ?? 'unauthorized'}${answer.hint ? ` (${answer.hint})` : ''}`);
  }
  if (!response.ok) {
    const text = (await response.text().catch(() => '')).trim().slice(0, 300);
    throw new ProbeAgentError('bad-answer', `the daemon at ${url.origin} answered ${method} ${path} with ${response.status}${text ? `: ${text}` : ''}`);
  }
  return response;
}

export async function fetchTargets(o: AgentOptions): Promise<ProbeTargets> {
  const response = await call(o, 'GET', TARGETS_PATH);
  const parsed = probeTargetsSchema.safeParse(await response.json().catch(() => undefined));
  if (!parsed.success) throw new ProbeAgentError('bad-answer', `the daemon at ${new URL(o.url).origin} sent targets this probe cannot read: ${parsed.error.issues[0]?.message ?? 'unknown shape'}`);
  return parsed.data;
}

export async function pushReport(o: AgentOptions, report: ProbeReport): Promise<void> {
  await call(o, 'POST', REPORT_PATH, JSON.stringify(report));
}

/** One round of checks from where this probe stands. */
export async function probeRound(o: Pick<AgentOptions, 'name' | 'limit'>, targets: ProbeTargets): Promise<ProbeReport> {
  const timed = <T>(fn: (signal: AbortSignal) => Promise<T>) => fn(AbortSignal.timeout(targets.timeoutMs));
  const ports = await fanOut(targets.ports, o.limit ?? 16, async (t): Promise<PortView> => {
    let seen: PortSeen;
    try {
      seen = await timed((signal) => tcpCheck(t.address, t.port, signal));
    } catch (error) {
      seen = (error as Error).message === 'aborted' ? 'silent' : 'error';
    }
    return { ...t, seen };
  });
  const names = await fanOut(targets.domains, o.limit ?? 16, async (domain): Promise<ProbeReport['names'][number]> => {
    let view: NameView;
    try {
      view = { domain, addresses: await timed((signal) => resolveCheck(domain, signal)) };
    } catch (error) {
      return { domain, error: ((error as NodeJS.ErrnoException).code ?? (error as Error).message).slice(0, 200) };
    }
    const address = view.addresses![0];
    if (!address) return view;
    try {
      const answer = await timed((signal) => httpCheck({ address, port: 80, host: domain, path: '/', tls: false }, signal));
      return { ...view, http: { status: answer.status } };
    } catch (error) {
      return { ...view, http: { error: ((error as NodeJS.ErrnoException).code ?? (error as Error).message).slice(0, 200) } };
    }
  });
  const value = <T>(r: { ok: true; value: T } | { ok: false; error: unknown }): T => {
    if (!r.ok) throw r.error;
    return r.value;
  };
  return { probe: o.name, ports: ports.map(value), names: names.map(value) };
}

export interface AgentRound {
  at: string;
  pushed: boolean;
  ports: number;
  silent: number;
  error?: string;
}

/**
 * Rounds until `signal` aborts (or one with `once`). The first request to the daemon must
 * succeed; later failures are reported per round and the loop goes on.
 */
export async function runProbeAgent(o: AgentOptions & { once?: boolean; signal: AbortSignal; onRound(round: AgentRound): void }): Promise<void> {
  let targets = await fetchTargets(o);
  while (!o.signal.aborted) {
    const started = Date.now();
    let round: AgentRound;
    try {
      const report = await probeRound(o, targets);
      await pushReport(o, report);
      round = { at: new Date().toISOString(), pushed: true, ports: report.ports.length, silent: report.ports.filter((p) => p.seen === 'silent').length };
      // The daemon's list follows the fleet (a recovery moves domains): asked again each round.
      targets = await fetchTargets(o);
    } catch (error) {
      round = { at: new Date().toISOString(), pushed: false, ports: 0, silent: 0, error: (error as Error).message };
    }
    o.onRound(round);
    if (o.once) return;
    const wait = targets.intervalS * 1000 - (Date.now() - started);
    if (wait > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        o.signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
      });
    }
  }
}
