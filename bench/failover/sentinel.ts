/**
 * Redis Sentinel (Debian's redis-sentinel) on the lab: three sentinels on three hosts that
 * are not the Redis primary, quorum 2, as its documentation's basic three-box setup. Each
 * runs in the foreground of its host with its own rewritable configuration file in that
 * host's /tmp; the lab's teardown ends them with the host.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Lab } from '../../src/lab/lab.ts';

export const SENTINEL_PORT = 26379;
const MASTER_NAME = 'lifeboat-bench';
const CONFIG = '/tmp/lifeboat-bench-sentinel.conf';

export interface SentinelSettings {
  /** The address this sentinel listens on and announces. */
  bind: string;
  primary: string;
  redisPort: number;
  quorum: number;
  /** How long a master must not answer before this sentinel thinks it down (`down-after-milliseconds`). */
  downAfterMs: number;
  password?: string;
}

export function sentinelConfig(s: SentinelSettings): string {
  if (s.password !== undefined && !/^[A-Za-z0-9_.-]+$/.test(s.password)) throw new Error('Sentinel bench: the Redis password must be letters, digits, _ . - (the lab makes it so)');
  return [
    `bind ${s.bind}`,
    `port ${SENTINEL_PORT}`,
    'daemonize no',
    'logfile /tmp/lifeboat-bench-sentinel.log',
    `sentinel monitor ${MASTER_NAME} ${s.primary} ${s.redisPort} ${s.quorum}`,
    ...(s.password !== undefined ? [`sentinel auth-pass ${MASTER_NAME} ${s.password}`] : []),
    `sentinel down-after-milliseconds ${MASTER_NAME} ${s.downAfterMs}`,
    `sentinel failover-timeout ${MASTER_NAME} 60000`,
    `sentinel parallel-syncs ${MASTER_NAME} 1`,
    '',
  ].join('\n');
}

/** `SENTINEL MASTER` answers as field/value lines. */
export function sentinelFields(reply: string): Record<string, string> {
  const lines = reply.trim().split('\n').map((l) => l.trim());
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < lines.length; i += 2) fields[lines[i]!] = lines[i + 1]!;
  return fields;
}

/** Starts a sentinel in each host and waits until every one knows the others and the replica. */
export async function startSentinels(lab: Lab, hosts: string[], s: Omit<SentinelSettings, 'bind'>, expectReplicas: number): Promise<void> {
  for (const host of hosts) {
    await writeFile(join(lab.paths.host(host), 'tmp', CONFIG.slice('/tmp/'.length)), sentinelConfig({ ...s, bind: lab.host(host).address }), { mode: 0o600 });
    const r = await lab.exec(host, `setsid -f redis-sentinel ${CONFIG} </dev/null >/dev/null 2>&1`, { timeoutMs: 10_000 });
    if (r.code !== 0) throw new Error(`Sentinel bench: redis-sentinel did not start in ${host}: ${r.stderr.trim()}`);
  }
  const deadline = Date.now() + 60_000;
  for (;;) {
    const views = await Promise.all(
      hosts.map(async (host) => sentinelFields((await lab.exec(host, `redis-cli -h ${lab.host(host).address} -p ${SENTINEL_PORT} SENTINEL MASTER ${MASTER_NAME}`, { timeoutMs: 5_000 })).stdout)),
    );
    const ready = views.every((v) => Number(v['num-other-sentinels']) === hosts.length - 1 && Number(v['num-slaves']) >= expectReplicas);
    if (ready) return;
    if (Date.now() > deadline) throw new Error(`Sentinel bench: the sentinels did not find each other and the replica within 60 s: ${JSON.stringify(views.map((v) => ({ sentinels: v['num-other-sentinels'], replicas: v['num-slaves'], flags: v.flags })))}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** What each sentinel logged, for a report when no promotion came. */
export async function sentinelLogs(lab: Lab, hosts: string[]): Promise<string> {
  const logs = await Promise.all(hosts.map(async (h) => `${h}: ${(await lab.exec(h, 'tail -n 6 /tmp/lifeboat-bench-sentinel.log', { timeoutMs: 5_000 })).stdout.trim()}`));
  return logs.join('\n');
}
