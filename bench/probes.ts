/**
 * Scheduler bench: `targets` probes (half TCP connects, half HTTP GETs with a Host header) on
 * 50 local HTTP servers on loopback, every one due each `intervalS`, for `seconds` after one
 * interval of warm-up. Measures what the daemon's scheduler costs on one core: how late
 * probes start after they are due (lag p50/p99), the CPU the scheduler's process used, and
 * results that were not answers (time-outs, errors: they should be none on loopback).
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { httpCheck, tcpCheck } from '../src/control/probes/checks.ts';
import { ProbeScheduler } from '../src/control/probes/scheduler.ts';

export interface ProbeBenchOptions {
  targets: number;
  intervalS: number;
  seconds: number;
  log?: (line: string) => void;
}

export interface ProbeBenchResult {
  targets: number;
  intervalS: number;
  seconds: number;
  probes: number;
  probesPerSecond: number;
  lagMs: { p50: number; p99: number; max: number };
  /** CPU time of the scheduler's process over the measured window, as a share of one core. */
  cpuPercentOfOneCore: number;
  timeouts: number;
  errors: number;
  skipped: number;
}

const SERVERS = 50;

export async function benchProbes(o: ProbeBenchOptions): Promise<ProbeBenchResult> {
  const log = o.log ?? (() => undefined);
  const child = fork(fileURLToPath(new URL('./probe-servers.ts', import.meta.url)), [String(SERVERS)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const ports = await new Promise<number[]>((resolve, reject) => {
      child.once('message', (m) => resolve((m as { ports: number[] }).ports));
      child.once('exit', (code) => reject(new Error(`the bench's servers exited ${code}`)));
    });
    let measuring = false;
    const lags: number[] = [];
    let timeouts = 0;
    let errors = 0;
    const scheduler = new ProbeScheduler<unknown>({
      jitter: 0.1,
      perGroup: 8,
      onResult: (r) => {
        if (!measuring) return;
        lags.push(r.startedAt - r.dueAt);
        if (r.outcome.state === 'timeout') timeouts++;
        if (r.outcome.state === 'error') errors++;
      },
    });
    for (let i = 0; i < o.targets; i++) {
      const port = ports[i % ports.length]!;
      const http = i % 2 === 1;
      scheduler.add({
        id: `t${i}`, group: `127.0.0.1:${port}`, intervalMs: o.intervalS * 1000, timeoutMs: 2_000,
        check: http
          ? (signal) => httpCheck({ address: '127.0.0.1', port, host: `d${i}.example`, path: '/health', tls: false }, signal)
          : (signal) => tcpCheck('127.0.0.1', port, signal),
      });
    }
    log(`probe bench: ${o.targets} targets on ${SERVERS} servers, every ${o.intervalS} s; warming up for ${o.intervalS} s`);
    scheduler.start();
    await new Promise((resolve) => setTimeout(resolve, o.intervalS * 1000));
    measuring = true;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const before = scheduler.stats();
    log(`measuring for ${o.seconds} s`);
    await new Promise((resolve) => setTimeout(resolve, o.seconds * 1000));
    const cpu = process.cpuUsage(cpu0);
    const wall = (performance.now() - t0) / 1000;
    measuring = false;
    scheduler.stop();
    const after = scheduler.stats();
    lags.sort((a, b) => a - b);
    const at = (q: number) => Math.round((lags[Math.min(lags.length - 1, Math.floor(q * lags.length))] ?? 0) * 10) / 10;
    return {
      targets: o.targets, intervalS: o.intervalS, seconds: Math.round(wall * 10) / 10,
      probes: lags.length, probesPerSecond: Math.round(lags.length / wall),
      lagMs: { p50: at(0.5), p99: at(0.99), max: Math.round((lags.at(-1) ?? 0) * 10) / 10 },
      cpuPercentOfOneCore: Math.round(((cpu.user + cpu.system) / 1e6 / wall) * 1000) / 10,
      timeouts, errors, skipped: after.skipped - before.skipped,
    };
  } finally {
    child.disconnect();
    child.kill();
  }
}

export function renderProbeBench(r: ProbeBenchResult): string {
  return [
    `probe scheduler: ${r.targets} targets every ${r.intervalS} s, measured ${r.seconds} s`,
    `  probes run          ${r.probes} (${r.probesPerSecond}/s)`,
    `  scheduling lag      p50 ${r.lagMs.p50} ms, p99 ${r.lagMs.p99} ms, max ${r.lagMs.max} ms`,
    `  CPU                 ${r.cpuPercentOfOneCore} % of one core`,
    `  not answered        ${r.timeouts} time-outs, ${r.errors} errors, ${r.skipped} turns skipped`,
    '',
  ].join('\n');
}
