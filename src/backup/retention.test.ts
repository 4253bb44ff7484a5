import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planRetention } from './retention.ts';

const hourlyStamps = (day: string, hours: number[]): string[] => hours.map((h) => `${day}T${String(h).padStart(2, '0')}0000Z`);

test('keeps the newest hourly copies and one per day for the daily count', () => {
  const stamps = [...hourlyStamps('20260101', [1, 2, 23]), ...hourlyStamps('20260102', [5, 6]), ...hourlyStamps('20260103', [7, 8, 9])];
  const plan = planRetention(stamps, [], { hourly: 2, daily: 2 });
  // Two newest, plus the newest of the last two days (Jan 3 already kept, Jan 2 at 06:00).
  assert.deepEqual(plan.keep, ['20260103T090000Z', '20260103T080000Z', '20260102T060000Z']);
  assert.equal(plan.remove.length, stamps.length - 3);
  assert.ok(!plan.remove.includes('20260103T090000Z'));
});

test('daily 0 keeps only the hourly copies', () => {
  const plan = planRetention(hourlyStamps('20260101', [1, 2, 3, 4]), [], { hourly: 3, daily: 0 });
  assert.deepEqual(plan.remove, ['20260101T010000Z']);
});

test('an incomplete folder older than the newest complete copy goes, a newer one may still be arriving', () => {
  const plan = planRetention(['20260101T020000Z'], ['20260101T010000Z', '20260101T030000Z'], { hourly: 5, daily: 1 });
  assert.deepEqual(plan.remove, ['20260101T010000Z']);
  assert.deepEqual(plan.keep, ['20260101T020000Z']);
});
