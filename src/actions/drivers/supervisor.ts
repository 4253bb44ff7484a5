/** supervisor (supervisorctl), the lab's and the seed's service manager. */
import { shq, type Remote, type RunResult } from '../../remote/remote.ts';
import { ServiceDriverError, type DriverOptions, type ServiceDriver, type ServiceState } from './driver.ts';

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
 * Asks made in the same turn of the event loop for one machine go as one
 * `supervisorctl VERB a b c`: each supervisorctl is a Python start (a quarter of a second
 * of CPU), and a switch-over starts, restarts and asks for every service at once, on
 * machines with one or two cores. Each program still gets its own answer: the lines
 * supervisorctl prints name it (`go-api: ERROR (spawn error)`).
 */
type Verb = 'status' | 'start' | 'stop' | 'restart';
interface Batch { programs: Set<string>; done: Promise<{ lines: Map<string, string[]>; result: RunResult }> }
const batches = new WeakMap<Remote, Map<string, Batch>>();

function batched(remote: Remote, ctl: string, verb: Verb, program: string, timeoutMs: number): Promise<{ lines: string[]; result: RunResult }> {
  let byKey = batches.get(remote);
  if (!byKey) batches.set(remote, (byKey = new Map()));
  const key = `${verb} ${ctl}`;
  let batch = byKey.get(key);
  if (!batch) {
    const programs = new Set<string>();
    const done = new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
      byKey.delete(key);
      const result = await remote.run(`${ctl} ${verb} ${[...programs].map(shq).join(' ')}`, { timeoutMs });
      const lines = new Map<string, string[]>();
      for (const line of result.stdout.split('\n')) {
        // `go-api  RUNNING pid 1, uptime 0:00:01` (status), `go-api: started` (the others).
        const name = /^(\S+?):?\s/.exec(line)?.[1];
        if (name && programs.has(name)) lines.set(name, [...(lines.get(name) ?? []), line]);
      }
      return { lines, result };
    });
    batch = { programs, done };
    byKey.set(key, batch);
  }
  batch.programs.add(program);
  return batch.done.then(({ lines, result }) => ({ lines: lines.get(program) ?? [], result }));
}

/**
 * One program's part of a batched start, stop or restart: its last line decides, as
 * supervisorctl's own exit status would. "already started" and "not running" are the state
 * asked for (restart prints the second before `started`), not failures.
 */
async function control(remote: Remote, ctl: string, verb: Exclude<Verb, 'status'>, program: string, timeoutMs: number): Promise<void> {
  const { lines, result } = await batched(remote, ctl, verb, program, timeoutMs);
  const last = lines.at(-1);
  const error = last && /\bERROR\b/.test(last) && !/\((already started|not running)\)/.test(last) ? last : undefined;
  const command = `${ctl} ${verb} ${shq(program)}`;
  if (error) throw new ServiceDriverError('command-failed', program, `${remote.machine}: \`${command}\`: ${error.trim()}`);
  // Nothing said of this program and a failed command (supervisord down, a time-out): the command's own words.
  if (lines.length === 0 && result.code !== 0) {
    const tail = (result.stderr || result.stdout).trim().split('\n').slice(-2).join(' | ');
    throw new ServiceDriverError('command-failed', program, `${remote.machine}: \`${command}\` exited ${result.code ?? result.signal}${tail ? `: ${tail}` : ''}`);
  }
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
    start: (remote) => control(remote, ctl, 'start', program, timeoutMs),
    stop: (remote) => control(remote, ctl, 'stop', program, timeoutMs),
    restart: (remote) => control(remote, ctl, 'restart', program, timeoutMs),
    async status(remote) {
      // supervisorctl exits 3 when a program is not running, so the exit code is not an error here.
      return supervisorState((await batched(remote, ctl, 'status', program, timeoutMs)).lines[0] ?? '');
    },
  };
}
