/**
 * When `lifeboat backup run` runs: a crontab line for the machine that holds the schedule,
 * and `isDue` for a daemon that would rather keep the schedule itself. Both read the fleet
 * file's five-field `backups.schedule`.
 */
import { shq } from './remote-shell.ts';

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
  return `${options.schedule} flock -n /run/lifeboat-backup.lock ${bin} backup run --fleet ${shq(options.fleetFile)} >>${shq(log)} 2>&1`;
}

export class ScheduleError extends Error {
  override name = 'ScheduleError';
  readonly code = 'bad-schedule';
}

const FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  { name: 'day of week', min: 0, max: 7 },
] as const;

/** The allowed values of each of the five fields (`*`, `a-b`, `*\/n`, `a-b/n`, lists). */
export function parseSchedule(schedule: string): Array<Set<number>> {
  const parts = schedule.trim().split(/\s+/);
  if (parts.length !== 5) throw new ScheduleError(`schedule ${JSON.stringify(schedule)}: expected five fields like "0 * * * *"`);
  return parts.map((part, i) => {
    const field = FIELDS[i]!;
    const values = new Set<number>();
    for (const item of part.split(',')) {
      const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(item);
      if (!m) throw new ScheduleError(`schedule ${JSON.stringify(schedule)}: cannot read ${field.name} ${JSON.stringify(item)}`);
      const from = m[1] === '*' ? field.min : Number(m[2]);
      const to = m[1] === '*' ? field.max : m[3] !== undefined ? Number(m[3]) : m[4] !== undefined ? field.max : from;
      const step = m[4] !== undefined ? Number(m[4]) : 1;
      if (from < field.min || to > field.max || from > to || step < 1) {
        throw new ScheduleError(`schedule ${JSON.stringify(schedule)}: ${field.name} ${item} is outside ${field.min}-${field.max}`);
      }
      for (let v = from; v <= to; v += step) values.add(i === 4 && v === 7 ? 0 : v);
    }
    return values;
  });
}

function matches(fields: Array<Set<number>>, at: Date): boolean {
  const [minute, hour, dom, month, dow] = fields as [Set<number>, Set<number>, Set<number>, Set<number>, Set<number>];
  // cron's rule: when both day fields are restricted, either one matching is enough.
  const day = dom.size === 31 || dow.size === 7
    ? dom.has(at.getUTCDate()) && dow.has(at.getUTCDay())
    : dom.has(at.getUTCDate()) || dow.has(at.getUTCDay());
  return minute.has(at.getUTCMinutes()) && hour.has(at.getUTCHours()) && month.has(at.getUTCMonth() + 1) && day;
}

/**
 * True when a scheduled minute (UTC) fell in (last, now]: a daemon calls this on each pass
 * with the time of the last run it started. Looks back at most one week (bounded loop).
 */
export function isDue(schedule: string, last: Date | undefined, now: Date): boolean {
  const fields = parseSchedule(schedule);
  const minuteMs = 60_000;
  const end = Math.floor(now.getTime() / minuteMs) * minuteMs;
  const start = last ? Math.max(Math.floor(last.getTime() / minuteMs) * minuteMs + minuteMs, end - 7 * 24 * 60 * minuteMs) : end;
  for (let t = end; t >= start; t -= minuteMs) if (matches(fields, new Date(t))) return true;
  return false;
}
