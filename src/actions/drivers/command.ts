/**
 * A service managed by the fleet's own shell commands. The status command follows the LSB
 * init-script convention: exit 0 = running, 1–3 = not running, anything else = unknown.
 * A start command that leaves a process behind must detach it from the session's output
 * (`setsid … >log 2>&1 </dev/null &`), or the command never returns and times out.
 */
import type { DriverOptions, ServiceDriver, ServiceState } from './driver.ts';
import { runStep } from './run-step.ts';

export function commandState(exitCode: number | null): ServiceState {
  if (exitCode === 0) return 'running';
  if (exitCode === 1 || exitCode === 2 || exitCode === 3) return 'stopped';
  return 'unknown';
}

export function commandDriver(
  name: string,
  spec: { start: string; stop: string; status: string },
  options: DriverOptions = {},
): ServiceDriver {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const commands = { start: spec.start, stop: spec.stop, restart: `${spec.stop}; ${spec.start}`, status: spec.status };
  return {
    commands,
    async start(remote) {
      await runStep(remote, name, spec.start, timeoutMs);
    },
    async stop(remote) {
      await runStep(remote, name, spec.stop, timeoutMs);
    },
    async restart(remote) {
      // A stop that fails because nothing ran is fine: the start decides.
      await remote.run(spec.stop, { timeoutMs });
      await runStep(remote, name, spec.start, timeoutMs);
    },
    async status(remote) {
      const result = await remote.run(spec.status, { timeoutMs });
      return commandState(result.code);
    },
  };
}
