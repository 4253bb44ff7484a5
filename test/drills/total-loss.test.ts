import assert from 'node:assert/strict';
import { test } from 'node:test';
import { drill } from './drill.ts';

test('drill total-loss: traffic, fault, recovery, and the runbook holds', async (t) => {
  const report = await drill(t, 'total-loss');
  // No replica survives: what was written after the newest backup is lost, nothing before it.
  assert.equal(report.lostWrites, report.lostWritesAfterBackup);
  assert.equal(report.uploadsChecked, false);
  assert.ok(report.steps.some((s) => /from hk /.test(s.title)), 'the only surviving store, off-site, is the source');
});
