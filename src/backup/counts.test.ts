import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareCounts } from './counts.ts';
import type { CopyEntry, Manifest } from './manifest.ts';

const copy: CopyEntry = {
  kind: 'logical', file: 'speed-x.sql.zst', bytes: 1, sha256: 'a'.repeat(64), plainSha256: 'a'.repeat(64),
  encrypted: false, prepared: false, gtid: '', tables: { users: 10, user_logs: 5 }, schemaOnly: ['user_logs'], tookMs: 1,
};
const manifest = (consistency: 'live' | 'replica-paused'): Manifest => ({
  format: 'lifeboat-backup/1', stamp: '20260101T000000Z', createdAt: '', fleet: 'f', schema: 'speed',
  source: { machine: 'db', role: 'db-replica', consistency }, serverVersion: '', copies: [copy],
});

test('exact counts pass; log tables only need to exist', () => {
  assert.deepEqual(compareCounts(manifest('replica-paused'), copy, { users: 10, user_logs: 0 }), { failures: [], drift: [] });
});

test('a missing table or a wrong count fails a paused-replica copy', () => {
  const r = compareCounts(manifest('replica-paused'), copy, { users: 9 });
  assert.equal(r.failures.length, 2);
});

test('count differences of a live copy are drift, a missing table still fails', () => {
  const r = compareCounts(manifest('live'), copy, { users: 12 });
  assert.deepEqual(r.drift, ['table users has 12 rows, manifest says 10']);
  assert.deepEqual(r.failures, ['table user_logs is missing']);
});
