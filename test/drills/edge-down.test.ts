import assert from 'node:assert/strict';
import { test } from 'node:test';
import { drill } from './drill.ts';

test('drill edge-down: traffic, fault, recovery, and the runbook holds', async (t) => {
  const report = await drill(t, 'edge-down');
  assert.equal(report.lostWrites, 0);
  assert.equal(report.lostUploads, 0);
});
