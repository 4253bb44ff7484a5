import { test } from 'node:test';
import assert from 'node:assert/strict';
import { divergence, extractionOptions, extractProblem, gtidsInExtract, parseGtidState } from './gtid-divergence.ts';

test('a gtid_binlog_state keeps one entry per domain and server, the highest', () => {
  assert.deepEqual(parseGtidState('0-12-7, 0-13-9,0-12-5,1-12-2'), [
    { domain: 0, server: 12, seq: 7n }, { domain: 0, server: 13, seq: 9n }, { domain: 1, server: 12, seq: 2n },
  ]);
  assert.deepEqual(parseGtidState(''), []);
  assert.throws(() => parseGtidState('0-12'), /not a MariaDB GTID/);
});

test('the old primary whose writes all reached the live primary is a prefix of it', () => {
  // The replica took 0-12-1..104, then wrote 105.. itself as the new primary.
  const d = divergence({ oldState: '0-12-104', oldServerId: 12, liveState: '0-12-104,0-13-180', liveSlavePos: '0-12-104' });
  assert.equal(d.kind, 'prefix');
});

test('writes committed after the replica stopped receiving are named, per domain, from the next one', () => {
  const d = divergence({ oldState: '0-12-110,1-12-4', oldServerId: 12, liveState: '0-12-104,0-13-180,1-12-4', liveSlavePos: '0-12-104,1-12-4' });
  assert.equal(d.kind, 'extra');
  assert.ok(d.kind === 'extra');
  assert.equal(d.count, 6n);
  assert.deepEqual(d.ranges, [{ domain: 0, server: 12, after: 104n, upTo: 110n }]);
  assert.match(d.detail, /6 transaction\(s\).*0-12-105…0-12-110/);
  assert.deepEqual(extractionOptions(d.ranges), ['--verbose', '--start-position=0-12-104', '--stop-position=0-12-110', '--do-domain-ids=0', '--server-id=12']);
});

test('what the old server replicated from others is never counted as its own', () => {
  // The old one was itself a replica of 11 once; only its own server id counts.
  const d = divergence({ oldState: '0-11-50,0-12-60', oldServerId: 12, liveState: '0-11-50,0-12-60,0-13-70', liveSlavePos: '' });
  assert.equal(d.kind, 'prefix');
});

test('a live primary that logged no replicated event is measured by where its replication stopped', () => {
  const d = divergence({ oldState: '0-12-10', oldServerId: 12, liveState: '0-13-15', liveSlavePos: '0-12-8' });
  assert.ok(d.kind === 'extra');
  assert.deepEqual(d.ranges, [{ domain: 0, server: 12, after: 8n, upTo: 10n }]);
});

test('no shared history (the live primary was restored, not replicated) is unknown, never "nothing to extract"', () => {
  const d = divergence({ oldState: '0-12-10', oldServerId: 12, liveState: '0-20-3', liveSlavePos: '' });
  assert.equal(d.kind, 'unknown');
  assert.match(d.detail, /holds none of its GTIDs of domain 0/);
});

test('an extract is complete only with each of its transactions once and nothing else', () => {
  const ranges = [{ domain: 0, server: 12, after: 104n, upTo: 106n }];
  assert.equal(extractProblem(['0-12-105', '0-12-106'], ranges), undefined);
  assert.match(extractProblem(['0-12-105'], ranges)!, /1 of the 2/);
  assert.match(extractProblem(['0-12-105', '0-12-105', '0-12-106'], ranges)!, /twice/);
  assert.match(extractProblem(['0-12-104', '0-12-105', '0-12-106'], ranges)!, /0-12-104, which is not/);
  assert.match(extractProblem(['0-13-105', '0-12-105', '0-12-106'], ranges)!, /0-13-105/);
});

test("mariadb-binlog's GTID event lines are read, nothing else", () => {
  const text = [
    '# at 4',
    '#261201 19:00:00 server id 12  end_log_pos 256 CRC32 0x1a2b3c4d 	GTID 0-12-105 trans',
    "/*!100001 SET @@session.gtid_seq_no=105*//*!*/;",
    '### INSERT INTO `speed`.`t` SET @1=1 -- "GTID 0-12-999" in a value is data',
    '#261201 9:00:01 server id 12  end_log_pos 512 CRC32 0x1a2b3c4e 	GTID 0-12-106 trans',
  ].join('\n');
  assert.deepEqual(gtidsInExtract(text), ['0-12-105', '0-12-106']);
});
