/**
 * Every drill on examples/shopfront/fleet.yaml, a fleet unlike the seed's in every dimension
 * lifeboat reads (three edges, services named freely under /srv with .env, JSON and YAML
 * configs, systemd and command drivers, a data folder outside the services', another schema,
 * domain table and ports, Redis with a password, stores that are not app servers). Its
 * services run as the lab's generic stand-in, so this is also the proof that nothing in the
 * lab or the core depends on the seed's names.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { drill, wireCaptureArgs, assertNothingInClear } from './drill.ts';

const FLEET = new URL('../../examples/shopfront/fleet.yaml', import.meta.url).pathname;
// Writes between the newest backup and the fault come back only through the shipped binary
// log: 10 s of them (about 200 requests) prove the replay as well as the CLI's default 30 s.
const BACKUP_AGE = ['--backup-age', '10'];

test('shopfront primary-down: the standby takes over with no acknowledged write or file lost', async (t) => {
  // Captured on the lab's switch: shopfront's Redis has a password, which must not cross in clear either.
  const report = await drill(t, 'primary-down', FLEET, wireCaptureArgs(t));
  assertNothingInClear(report);
  assert.ok(report.wire!.flows['16381']!.encrypted > 0, "Redis traffic went to its TLS port (the first free one from 16380 up: shopfront's endpoints hold 16380)");
  assert.equal(report.lostWrites, 0, 'semi-sync replication: no acknowledged write is lost');
  assert.equal(report.lostUploads, 0, 'no file older than the sync interval is lost');
  assert.ok(report.acknowledged.row! > 0 && report.acknowledged.file! > 0, 'rows and files were written and checked');
  assert.ok(report.rtoByService.storefront !== null && report.rtoByService.orders !== null, 'both forwarded app services serve again');
  assert.deepEqual(report.restartedServices, [], 'stable endpoints: the standby\'s services were switched, not restarted');
  assert.ok(report.steps.some((s) => s.title.startsWith('Switch the stable endpoints')), 'the endpoints were switched');
});

test('shopfront backup-down: the standby is replaced from a spare, which ends a semi-sync replica with every row', async (t) => {
  const report = await drill(t, 'backup-down', FLEET);
  assert.equal(report.lostWrites, 0);
  assert.equal(report.lostUploads, 0);
  assert.equal(report.standby, 'spare-1', `the spare stands by at the end: ${JSON.stringify(report.standbyChecked)}`);
});

test('shopfront edge-down: the other two edges carry the traffic, and the spare gw-spare is built into a new edge serving its own domain', async (t) => {
  const report = await drill(t, 'edge-down', FLEET);
  assert.equal(report.lostWrites, 0);
  assert.ok(Object.keys(report.rtoByDomain).length === 3, 'traffic went through all three edges\' domains');
  assert.equal(report.newEdge?.machine, 'gw-spare', JSON.stringify(report.newEdge));
  assert.deepEqual(report.newEdge.domains, ['shop2.example.net']);
  const answers = Object.entries(report.newEdge.answers);
  assert.ok(answers.length >= 2 && answers.every(([, a]) => a === 'ok'), `every forwarded service answers through shop2.example.net from the client: ${JSON.stringify(report.newEdge.answers)}`);
  assert.ok(report.steps.some((s) => s.title.startsWith('Bring gw-spare into service as an edge like')), 'built by the recovery');
  assert.equal(report.standby, 'standby', `the replica still stands by with every row: ${JSON.stringify(report.standbyChecked)}`);
});

test('shopfront both-app-down: a spare becomes the primary from the on-site store, and the binary log shipped since the copy is replayed', async (t) => {
  const report = await drill(t, 'both-app-down', FLEET, BACKUP_AGE);
  assert.ok(report.backupAgeSeconds! >= 10, `10 s of writes between the copy and the fault (${report.backupAgeSeconds} s)`);
  assert.equal(report.lossBound, 'last-second');
  assert.ok(report.lostWrites <= report.lostWritesLastSecond!.length, `only writes of the last second before the fault may be lost: ${report.lostWrites} lost, ${report.lostWritesLastSecond!.length} of them in the last second`);
  assert.ok(report.acknowledged.row! > 0, 'rows were written and checked');
  assert.ok(report.steps.some((s) => / vault\b/.test(s.title)), 'the surviving on-site store is the source');
  assert.ok(report.steps.some((s) => /^Replay the binary log shipped to vault/.test(s.title.trim())), 'the shipped log was replayed');
});

test('shopfront total-loss: a spare is rebuilt from the off-site copy and the binary log sealed there', async (t) => {
  const report = await drill(t, 'total-loss', FLEET, BACKUP_AGE);
  assert.ok(report.backupAgeSeconds! >= 10, `10 s of writes between the copy and the fault (${report.backupAgeSeconds} s)`);
  assert.equal(report.lossBound, 'last-second');
  assert.ok(report.lostWrites <= report.lostWritesLastSecond!.length, `only writes of the last second before the fault may be lost: ${report.lostWrites} lost, ${report.lostWritesLastSecond!.length} of them in the last second`);
  assert.ok(report.acknowledged.row! > 0, 'rows were written and checked');
  assert.ok(report.steps.some((s) => /^Replay the binary log shipped to far-vault/.test(s.title.trim())), 'the only surviving store, off-site, is the source of the copy and the log');
});

test('shopfront rejoin: the old primary comes back after a failover that gave up its last rows; they are extracted and reported, and it ends the standby', async (t) => {
  const report = await drill(t, 'rejoin', FLEET);
  assert.equal(report.lossBound, 'replica-stopped', 'the failover accepted the loss of what the stopped standby never received');
  const rejoin = report.rejoin!;
  assert.equal(rejoin.outcome, 'recovered', JSON.stringify(rejoin));
  assert.ok(rejoin.markersWritten > 0, 'the drill wrote rows on the old primary alone');
  assert.equal(rejoin.markersInExtract, rejoin.markersWritten, `every row only the old primary held is in the extract on the operator's machine: ${JSON.stringify(rejoin)}`);
  assert.match(rejoin.extractFile ?? '', /core-\d{8}T\d{6}Z\.sql$/);
  assert.equal(rejoin.extractMode, '600', "the extract is the operator's alone to read");
  assert.ok(rejoin.rolesAfter?.includes('db-replica'), `the operator's fleet file names core a replica again: ${JSON.stringify(rejoin.rolesAfter)}`);
  assert.ok(rejoin.fencedAfterS !== null, 'fenced after it came back');
  assert.equal(report.standby, 'core', `the rejoined machine is a semi-sync replica of the new primary with every row: ${JSON.stringify(report.standbyChecked)}`);
});
