import assert from 'node:assert/strict';
import { test } from 'node:test';
import { drill } from './drill.ts';

test('drill both-app-down: traffic, fault, recovery, and the runbook holds', async (t) => {
  const report = await drill(t, 'both-app-down');
  // No replica survives: what was written after the newest backup is lost, nothing before it.
  assert.equal(report.lostWrites, report.lostWritesAfterBackup);
  assert.equal(report.uploadsChecked, false);
});
