/**
 * HTTP and TCP checks run ON a machine through its Remote (with curl and bash's /dev/tcp),
 * so "does the service answer" is asked from where it matters: inside a lab host, on an
 * edge, or on the app server itself. Every check has a 1 s timeout by default.
 */
import { shq, type Remote } from '../remote/remote.ts';

export type Probe =
  | {
      type: 'http';
      url: string;
      /** Host header, for name-based virtual servers. */
      host?: string;
      /** Expected status; any HTTP answer counts when left out. */
      expectStatus?: number;
      /** Text the body must contain, e.g. the name of the backend that should answer. */
      expectBody?: string;
    }
  | { type: 'tcp'; host: string; port: number };

export interface ProbeResult {
  ok: boolean;
  /** One line for people: what was seen. */
  detail: string;
  status?: number;
  body?: string;
}

const STATUS_MARK = '\n@@lifeboat-status:';

export function probeCommand(probe: Probe, timeoutS = 1): string {
  if (probe.type === 'tcp') {
    // `timeout` bounds the connect even when the host does not answer at all.
    return `timeout ${timeoutS} bash -c ${shq(`</dev/tcp/${probe.host}/${probe.port}`)}`;
  }
  const header = probe.host ? ` -H ${shq(`Host: ${probe.host}`)}` : '';
  return `curl -sS --max-time ${timeoutS} --connect-timeout ${timeoutS}${header} -w ${shq(`${STATUS_MARK}%{http_code}`)} ${shq(probe.url)}`;
}

export function describeProbe(probe: Probe): string {
  if (probe.type === 'tcp') return `tcp ${probe.host}:${probe.port}`;
  const wants = [probe.expectStatus ? `status ${probe.expectStatus}` : '', probe.expectBody ? `body containing ${JSON.stringify(probe.expectBody)}` : '']
    .filter(Boolean)
    .join(' and ');
  return `GET ${probe.url}${probe.host ? ` (Host: ${probe.host})` : ''}${wants ? ` expecting ${wants}` : ''}`;
}

export async function runProbe(remote: Remote, probe: Probe, timeoutS = 1): Promise<ProbeResult> {
  const result = await remote.run(probeCommand(probe, timeoutS), { timeoutMs: timeoutS * 1000 + 2000 });
  if (probe.type === 'tcp') {
    return result.code === 0
      ? { ok: true, detail: `${probe.host}:${probe.port} accepts connections` }
      : { ok: false, detail: `${probe.host}:${probe.port} refused or timed out` };
  }
  const mark = result.stdout.lastIndexOf(STATUS_MARK);
  const status = mark >= 0 ? Number(result.stdout.slice(mark + STATUS_MARK.length).trim()) : 0;
  const body = mark >= 0 ? result.stdout.slice(0, mark) : result.stdout;
  if (result.code !== 0 || !status) {
    return { ok: false, detail: `no HTTP answer: ${result.stderr.trim().split('\n').pop() ?? `curl exited ${result.code}`}` };
  }
  if (probe.expectStatus !== undefined && status !== probe.expectStatus) {
    return { ok: false, detail: `answered ${status}, expected ${probe.expectStatus}`, status, body };
  }
  if (probe.expectBody !== undefined && !body.includes(probe.expectBody)) {
    return { ok: false, detail: `answered ${status} without ${JSON.stringify(probe.expectBody)} in the body`, status, body };
  }
  return { ok: true, detail: `answered ${status}`, status, body };
}

/** Repeats the probe until it passes or `withinMs` ran out; returns the last result. */
export async function probeUntil(remote: Remote, probe: Probe, withinMs: number, stepMs = 100): Promise<ProbeResult> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const result = await runProbe(remote, probe);
    if (result.ok || Date.now() + stepMs > deadline) return result;
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
}
