/** The crontab line that runs `lifeboat backup run` on the fleet's schedule. */
import { shq } from './shell.ts';

export interface CronOptions {
  schedule: string;
  fleetFile: string;
  /** How lifeboat is invoked on the machine running cron. */
  lifeboat?: string;
  logFile?: string;
}

export function crontabLine(options: CronOptions): string {
  const bin = options.lifeboat ?? 'lifeboat';
  const log = options.logFile ?? '/var/log/lifeboat-backup.log';
  // flock: an hourly run that overruns never overlaps the next one.
  return `${options.schedule} flock -n /run/lifeboat-backup.lock ${bin} backup run ${shq(options.fleetFile)} >>${shq(log)} 2>&1`;
}
