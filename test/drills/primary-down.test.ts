import assert from 'node:assert/strict';
import { test } from 'node:test';
import { drill, wireCaptureArgs, assertNothingInClear } from './drill.ts';

// The seed's fleet with its richer stand-ins (sessions, first-event-of-the-day log rows,
// uploads). All five scenarios are drilled on shopfront (shopfront.test.ts).
test('drill primary-down --new-backup: traffic, fault, recovery, a spare built into the new backup, and the runbook holds', async (t) => {
  // The whole drill, prepare included, captured on the lab's switch (issue: safe on the wire):
  // the new backup's seed copy and replication cross it too.
  const report = await drill(t, 'primary-down', undefined, [...wireCaptureArgs(t), '--new-backup']);
  assertNothingInClear(report);
  assert.equal(report.lostWrites, 0, 'semi-sync replication: no acknowledged write is lost');
  assert.equal(report.lostUploads, 0, 'no upload older than the sync interval is lost');
  assert.ok(report.acknowledged.user_log! > 0 && report.acknowledged.upload! > 0, 'writes of every kind were checked');
  assert.deepEqual(report.restartedServices, [], "stable endpoints: no service on the surviving machines was restarted (go-job and go-upload are started on the backup, they did not run there)");
  assert.ok(!report.steps.some((s) => /^Restart /.test(s.title)), 'no restart step in the run');
  // §4.3 step 9: the spare is a semi-sync replica of the new primary holding every row.
  assert.equal(report.standby, 'spare-1', `the new backup stands by: ${JSON.stringify(report.standbyChecked)}`);
  assert.ok(report.steps.some((s) => s.title.startsWith('Start only go-api, go-admin, go-fly on spare-1')), "only the backup's services start on it");
});
