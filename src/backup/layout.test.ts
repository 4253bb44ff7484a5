import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BackupError } from './errors.ts';
import { copyFileName, dateOfStamp, STAMP_PATTERN, stampOf } from './layout.ts';
import { parseManifest } from './manifest.ts';

test('stamps are UTC, sortable, round-trip to a date', () => {
  const date = new Date('2026-11-24T00:25:16.789Z');
  const stamp = stampOf(date);
  assert.equal(stamp, '20261124T002516Z');
  assert.match(stamp, STAMP_PATTERN);
  assert.equal(dateOfStamp(stamp).toISOString(), '2026-11-24T00:25:16.000Z');
  assert.ok(stampOf(new Date('2026-11-24T09:00:00Z')) < stampOf(new Date('2026-11-24T10:00:00Z')));
});

test("the logical dump keeps the seed's speed-<stamp> name", () => {
  assert.equal(copyFileName('logical', 'speed', '20261124T002516Z'), 'speed-20261124T002516Z.sql.zst');
  assert.equal(copyFileName('physical', 'speed', '20261124T002516Z'), 'speed-20261124T002516Z.physical.tar.zst');
});

test('a manifest that is not JSON or not the format is a bad-manifest error', () => {
  for (const text of ['{', '{"format":"other"}']) {
    assert.throws(() => parseManifest(text, 's:x'), (e: unknown) => e instanceof BackupError && e.code === 'bad-manifest');
  }
});
