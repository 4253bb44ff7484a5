/** supervisor (supervisorctl), the lab's and the seed's service manager. */
import { shq } from '../../remote/remote.ts';
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
      // supervisorctl exits 3 for a stopped program, so the exit code is not an error here.
      const result = await remote.run(commands.status, { timeoutMs });
      return supervisorState(result.stdout);
    },
  };
}
