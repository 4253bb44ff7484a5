/** supervisor (supervisorctl), the lab's and the seed's service manager. */
import { shq, type Remote } from '../../remote/remote.ts';
import type { DriverOptions, ServiceDriver, ServiceState } from './driver.ts';
import { runStep } from './run-step.ts';

/** supervisorctl's words for a process state (supervisor/states.py). */
export function supervisorState(statusLine: string): ServiceState {
  const word = /^\S+\s+([A-Z]+)/.exec(statusLine.trim())?.[1];
  switch (word) {
    case 'RUNNING':
      return 'running';
    case 'STOPPED':
    case 'EXITED':
    case 'FATAL':
    case 'BACKOFF':
      return 'stopped';
    default:
      return 'unknown'; // STARTING, STOPPING, UNKNOWN, or no such program
  }
}

/**
 * Status asks made in the same turn of the event loop for one machine go as one
 * `supervisorctl status a b c`: each supervisorctl is a Python start (a quarter of a second
 * of CPU), and a switch-over asks for every service at once, on machines with one or two
 * cores. Only reads are batched; starts and stops stay one command per program:
 * `supervisorctl start a b c` starts them one after the other, each waiting out its
 * `startsecs` (1 s by default), so five services batched would take five seconds, not one.
 */
interface StatusBatch { programs: Set<string>; done: Promise<Map<string, string>> }
const statusBatches = new WeakMap<Remote, Map<string, StatusBatch>>();

function batchedStatus(remote: Remote, ctl: string, program: string, timeoutMs: number): Promise<string> {
  let byCtl = statusBatches.get(remote);
  if (!byCtl) statusBatches.set(remote, (byCtl = new Map()));
  let batch = byCtl.get(ctl);
  if (!batch) {
    const programs = new Set<string>();
    const done = new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
      byCtl.delete(ctl);
      // supervisorctl exits 3 when a program is not running, so the exit code is not an error here.
      const result = await remote.run(`${ctl} status ${[...programs].map(shq).join(' ')}`, { timeoutMs });
      const lines = new Map<string, string>();
      for (const line of result.stdout.split('\n')) {
        const name = /^(\S+)\s/.exec(line)?.[1];
        if (name && programs.has(name)) lines.set(name, line);
      }
      return lines;
    });
    batch = { programs, done };
    byCtl.set(ctl, batch);
  }
  batch.programs.add(program);
  return batch.done.then((lines) => lines.get(program) ?? '');
}

export function supervisorDriver(program: string, options: DriverOptions = {}): ServiceDriver {
  const ctl = options.supervisorctl ?? 'supervisorctl';
  const timeoutMs = options.timeoutMs ?? 30_000;
  const commands = {
    start: `${ctl} start ${shq(program)}`,
    stop: `${ctl} stop ${shq(program)}`,
    restart: `${ctl} restart ${shq(program)}`,
    status: `${ctl} status ${shq(program)}`,
  };
  return {
    commands,
    async start(remote) {
      await runStep(remote, program, commands.start, timeoutMs);
    },
    async stop(remote) {
      await runStep(remote, program, commands.stop, timeoutMs);
    },
    async restart(remote) {
      await runStep(remote, program, commands.restart, timeoutMs);
    },
    async status(remote) {
      return supervisorState(await batchedStatus(remote, ctl, program, timeoutMs));
    },
  };
}
