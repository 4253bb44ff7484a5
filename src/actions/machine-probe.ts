/**
 * HTTP and TCP checks run ON a machine through its Remote (with curl and bash's /dev/tcp),
 * so "does the service answer" is asked from where it matters: inside a lab host, on an
 * edge, or on the app server itself. Every check has a 1 s timeout by default.
 */
import { randomBytes } from 'node:crypto';
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
  return judge(probe, result.code, result.stdout, result.stderr);
}

/** What one probe's command printed means; `stderr` gives the reason of a failure. */
function judge(probe: Probe, code: number | null, stdout: string, stderr: string): ProbeResult {
  if (probe.type === 'tcp') {
    return code === 0
      ? { ok: true, detail: `${probe.host}:${probe.port} accepts connections` }
      : { ok: false, detail: `${probe.host}:${probe.port} refused or timed out` };
  }
  const mark = stdout.lastIndexOf(STATUS_MARK);
  const status = mark >= 0 ? Number(stdout.slice(mark + STATUS_MARK.length).trim()) : 0;
  const body = mark >= 0 ? stdout.slice(0, mark) : stdout;
  if (code !== 0 || !status) {
    return { ok: false, detail: `no HTTP answer: ${stderr.trim().split('\n').pop() || `curl exited ${code}`}` };
  }
  if (probe.expectStatus !== undefined && status !== probe.expectStatus) {
    return { ok: false, detail: `answered ${status}, expected ${probe.expectStatus}`, status, body };
  }
  if (probe.expectBody !== undefined && !body.includes(probe.expectBody)) {
    return { ok: false, detail: `answered ${status} without ${JSON.stringify(probe.expectBody)} in the body`, status, body };
  }
  return { ok: true, detail: `answered ${status}`, status, body };
}

/**
 * Several probes in ONE command on the machine, side by side, each with its own output and
 * exit code: a recovery that waits for five services to answer costs the machine one
 * command per round, not five (on a machine that is starting those services, every
 * process spawned to ask competes with them for the CPU). The outputs wait in a temporary
 * folder; where none can be made (a full disk), the probes go one command each, as before.
 */
export async function runProbes(remote: Remote, probes: readonly Probe[], timeoutS = 1): Promise<ProbeResult[]> {
  if (probes.length === 0) return [];
  if (probes.length === 1) return [await runProbe(remote, probes[0]!, timeoutS)];
  // Markers of this call only: no answer's body can hold them by chance.
  const nonce = randomBytes(6).toString('hex');
  const section = `@@lifeboat-probe-${nonce}:`;
  const errMark = `@@lifeboat-probe-${nonce}-stderr`;
  const noTemp = `@@lifeboat-probe-${nonce}-no-temp`;
  const launch = probes.map((p, i) => `{ ( ${probeCommand(p, timeoutS)} ) >"$d/${i}.out" 2>"$d/${i}.err"; echo $? >"$d/${i}.code"; } &`).join('\n');
  // Per probe: a line with its index and exit code, its stdout, a line, its stderr; each
  // part followed by a newline, so a marker always starts a line of its own.
  const script = [
    `d=$(mktemp -d 2>/dev/null) || { echo '${noTemp}'; exit 0; }`,
    launch,
    'wait',
    `i=0; while [ "$i" -lt ${probes.length} ]; do printf '${section}%s:%s\\n' "$i" "$(cat "$d/$i.code" 2>/dev/null)"; cat "$d/$i.out" 2>/dev/null; echo; echo '${errMark}'; cat "$d/$i.err" 2>/dev/null; echo; i=$((i + 1)); done`,
    'rm -rf "$d"',
  ].join('\n');
  const result = await remote.run(script, { timeoutMs: timeoutS * 1000 + 3000 });
  if (result.stdout.startsWith(noTemp)) return Promise.all(probes.map((p) => runProbe(remote, p, timeoutS)));
  const sections = new Map<number, { code: number | null; out: string[]; err: string[] }>();
  let lines: string[] | undefined;
  let current: { code: number | null; out: string[]; err: string[] } | undefined;
  for (const line of result.stdout.split('\n')) {
    const m = line.startsWith(section) ? /^(\d+):(\d*)$/.exec(line.slice(section.length)) : null;
    if (m) {
      current = { code: m[2] === '' ? null : Number(m[2]), out: [], err: [] };
      sections.set(Number(m[1]), current);
      lines = current.out;
    } else if (current && line === errMark) {
      lines = current.err;
    } else {
      lines?.push(line);
    }
  }
  // The newline echoed after each part ends its last line: joined, the lines are the output.
  const text = (part: string[]) => part.join('\n');
  return probes.map((p, i) => {
    const found = sections.get(i);
    if (!found) return { ok: false, detail: `the probe did not run on the machine (exit ${result.code}${result.stderr.trim() ? `: ${result.stderr.trim().split('\n').pop()}` : ''})` };
    return judge(p, found.code, text(found.out), text(found.err));
  });
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

/**
 * Repeats every probe that has not passed yet, all in one command per round, until each
 * passed or `withinMs` ran out; returns each probe's last result, in order.
 */
export async function probeAllUntil(remote: Remote, probes: readonly Probe[], withinMs: number, stepMs = 100): Promise<ProbeResult[]> {
  const deadline = Date.now() + withinMs;
  const results: (ProbeResult | undefined)[] = probes.map(() => undefined);
  for (;;) {
    const pending = probes.map((p, i) => ({ p, i })).filter(({ i }) => !results[i]?.ok);
    const round = await runProbes(remote, pending.map(({ p }) => p));
    pending.forEach(({ i }, k) => { results[i] = round[k]; });
    if (results.every((r) => r?.ok) || Date.now() + stepMs > deadline) return results as ProbeResult[];
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
}
