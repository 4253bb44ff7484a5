import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gtidCovers, gtidGap, parseGtidList } from './gtid.ts';

test('GTID lists parse per domain and keep the highest sequence', () => {
  const list = parseGtidList('0-1-42, 1-3-7,0-2-40');
  assert.deepEqual([...list.values()], [{ domain: 0, server: 1, seq: 42n }, { domain: 1, server: 3, seq: 7n }]);
  assert.equal(parseGtidList('').size, 0);
  assert.throws(() => parseGtidList('0-1'), /not a MariaDB GTID/);
});

test('coverage compares sequence numbers per domain, whoever wrote them', () => {
  assert.ok(gtidCovers('0-2-42', '0-1-42'));
  assert.ok(gtidCovers('0-1-43,1-1-1', '0-1-42'));
  assert.ok(!gtidCovers('0-1-41', '0-1-42'));
  assert.ok(!gtidCovers('0-1-50', '0-1-42,1-1-1'));
  assert.ok(gtidCovers('', ''));
  assert.equal(gtidGap('0-1-40', '0-1-42,1-1-3'), 5n);
  assert.equal(gtidGap('0-1-50', '0-1-42'), 0n);
});
