/**
 * One interface for the ways a machine starts and stops the business's services
 * (supervisor, systemd, plain commands from the fleet file). Drivers only say what to run
 * and how to read the answer; `services.ts` adds idempotence, health checks and plans.
 */
import type { Remote } from '../../remote/remote.ts';

export type ServiceState = 'running' | 'stopped' | 'unknown';

export interface ServiceCommands {
  start: string;
  stop: string;
  restart: string;
  status: string;
}

export interface ServiceDriver {
  /** The exact shell commands, shown by plans. */
  readonly commands: ServiceCommands;
  start(remote: Remote): Promise<void>;
  stop(remote: Remote): Promise<void>;
  restart(remote: Remote): Promise<void>;
  status(remote: Remote): Promise<ServiceState>;
}

/** Where drivers find their tools on a machine; defaults suit a stock Debian host. */
export interface DriverOptions {
  /** e.g. `supervisorctl -c /etc/lifeboat/supervisord.conf`. Default `supervisorctl`. */
  supervisorctl?: string;
  /** Default `systemctl`. */
  systemctl?: string;
  /** Per command; a driver never waits longer. Default 30 s (supervisor waits for startsecs). */
  timeoutMs?: number;
}

export class ServiceDriverError extends Error {
  override name = 'ServiceDriverError';
  constructor(
    readonly code: 'command-failed',
    readonly service: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
