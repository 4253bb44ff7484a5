import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gtidFromBinlogInfo } from './replica-seed-physical.ts';

test("the copy's GTID position is read from mariadb-backup's record, and a record that is not one stops the seed", () => {
  assert.equal(gtidFromBinlogInfo('mysql-bin.000003\t1894\t0-12-1042\n'), '0-12-1042');
  assert.equal(gtidFromBinlogInfo('mysql-bin.000003\t1894\t0-12-1042,1-13-7\n'), '0-12-1042,1-13-7');
  // A primary that never wrote a transaction has a position and no GTID: the replica starts at the beginning.
  assert.equal(gtidFromBinlogInfo('mysql-bin.000001\t328\n'), '');
  assert.throws(() => gtidFromBinlogInfo(''), /not one/);
  assert.throws(() => gtidFromBinlogInfo('mysql-bin.000001\t328\t0-1-x; DROP'), /not one/);
});
