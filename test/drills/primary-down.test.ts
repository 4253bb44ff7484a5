import assert from 'node:assert/strict';
import { test } from 'node:test';
import { drill } from './drill.ts';

// The seed's fleet with its richer stand-ins, and no person involved: the watch daemon
// (lifeboat serve, policy auto) notices the dead primary and runs the recovery itself.
// The same scenario run by a person's `lifeboat recover` is drilled on shopfront.
test('drill primary-down --auto: the daemon notices, recovers, and the runbook holds', async (t) => {
  const report = await drill(t, 'primary-down', undefined, ['--auto']);
  assert.equal(report.auto, true);
  assert.ok(report.detectSeconds !== null && report.detectSeconds !== undefined && report.detectSeconds > 0, 'the daemon opened an incident after the fault');
  assert.ok(report.detectSeconds! < report.recoverSeconds!, 'noticed before recovered');
  assert.equal(report.lostWrites, 0, 'semi-sync replication: no acknowledged write is lost');
  assert.equal(report.lostUploads, 0, 'no upload older than the sync interval is lost');
  assert.ok(report.acknowledged.user_log! > 0 && report.acknowledged.upload! > 0, 'writes of every kind were checked');
});
