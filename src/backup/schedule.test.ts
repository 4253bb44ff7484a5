import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crontabLine, isDue, parseSchedule, ScheduleError } from './schedule.ts';

test('the crontab line runs backup run under flock with the fleet file quoted', () => {
  assert.equal(
    crontabLine({ schedule: '0 * * * *', fleetFile: '/etc/lifeboat/fleet.yaml' }),
    '0 * * * * flock -n /run/lifeboat-backup.lock lifeboat backup run --fleet /etc/lifeboat/fleet.yaml >>/var/log/lifeboat-backup.log 2>&1',
  );
});

test('hourly schedule: due once per hour, not again in the same hour', () => {
  const at = (iso: string) => new Date(iso);
  assert.equal(isDue('0 * * * *', at('2026-11-24T09:00:30Z'), at('2026-11-24T09:59:00Z')), false);
  assert.equal(isDue('0 * * * *', at('2026-11-24T09:00:30Z'), at('2026-11-24T10:00:10Z')), true);
  assert.equal(isDue('0 * * * *', undefined, at('2026-11-24T10:00:10Z')), true);
  assert.equal(isDue('0 * * * *', undefined, at('2026-11-24T10:01:00Z')), false);
  assert.equal(isDue('*/15 2-4 * * 1-5', at('2026-11-23T02:00:00Z'), at('2026-11-23T02:15:00Z')), true);
});

test('a bad schedule is refused with a code', () => {
  for (const s of ['0 * * *', '61 * * * *', 'x * * * *', '5-1 * * * *']) {
    assert.throws(() => parseSchedule(s), (e: unknown) => e instanceof ScheduleError && e.code === 'bad-schedule');
  }
});
