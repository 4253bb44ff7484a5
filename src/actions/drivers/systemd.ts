/** systemd units through systemctl. */
import { shq } from '../../remote/remote.ts';
import type { DriverOptions, ServiceDriver, ServiceState } from './driver.ts';
import { runStep } from './run-step.ts';

/** `systemctl is-active` prints one word (man systemctl, "is-active"). */
export function systemdState(isActive: string): ServiceState {
  switch (isActive.trim()) {
    case 'active':
    case 'reloading':
      return 'running';
    case 'inactive':
    case 'failed':
      return 'stopped';
    default:
      return 'unknown'; // activating, deactivating, or no such unit
  }
}

export function systemdDriver(unit: string, options: DriverOptions = {}): ServiceDriver {
  const ctl = options.systemctl ?? 'systemctl';
  const timeoutMs = options.timeoutMs ?? 30_000;
  const commands = {
    start: `${ctl} start ${shq(unit)}`,
    stop: `${ctl} stop ${shq(unit)}`,
    restart: `${ctl} restart ${shq(unit)}`,
    status: `${ctl} is-active ${shq(unit)}`,
  };
  return {
    commands,
    async start(remote) {
      await runStep(remote, unit, commands.start, timeoutMs);
    },
    async stop(remote) {
      await runStep(remote, unit, commands.stop, timeoutMs);
    },
    async restart(remote) {
      await runStep(remote, unit, commands.restart, timeoutMs);
    },
    async status(remote) {
      // is-active exits non-zero for anything but active; the word says which.
      const result = await remote.run(commands.status, { timeoutMs });
      return systemdState(result.stdout);
    },
  };
}
