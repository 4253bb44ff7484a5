/** Which steps prepare builds from a fleet, and what its report says: no machine is touched. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseFleet } from '../fleet/load.ts';
import type { RunRecord, StepRecord } from '../recovery/journal.ts';
import { prepareReport, renderPrepareReport } from './report.ts';
import { prepareScenario } from './scenario.ts';
import { topology } from './topology.ts';

const example = async () => parseFleet(await readFile(join(import.meta.dirname, '../../examples/go-speed/fleet.yaml'), 'utf8'), 'fleet.yaml');

test('the example fleet: replication primary → backup, Redis replica on backup, uploads to backup, archives of every machine', async () => {
  const fleet = await example();
  const t = topology(fleet);
  assert.equal(t.dbPrimary?.name, 'primary');
  assert.deepEqual(t.dbReplicas.map((m) => m.name), ['backup']);
  assert.deepEqual(t.redisReplicas.map((m) => m.name), ['backup']);
  assert.deepEqual(t.uploads.map((u) => `${u.service}:${u.source.name}->${u.target.name}`), ['go-upload:primary->backup']);
  const ctx = { fleet, remote: () => { throw new Error('no machine is reached while building'); }, secret: async () => '', log: () => {} };
  const steps = await prepareScenario().build({ failed: '' }, ctx);
  const titles = steps.map((s) => s.title);
  assert.ok(titles.indexOf('Seed backup from primary and replicate with GTID') < titles.indexOf('Turn on semi-sync on primary and see the replicas acknowledge'),
    'the primary waits for acknowledgements only once a replica is there to give them');
  // The stores' shipping, the Redis replica, the endpoints and the upload sync change different things: one group.
  const group = steps.find((s) => s.title === 'Binary log to the stores, Redis replicas, stable endpoints on the app servers, upload sync');
  assert.ok(group?.kind === 'parallel', titles.join(' | '));
  assert.deepEqual(group.steps.map((s) => s.title), ['Binary log shipping to backup', 'Binary log shipping to report', 'Binary log shipping to hk', 'Make Redis on backup a replica of primary', 'Stable endpoints on primary', 'Stable endpoints on backup',
    "Keep go-upload's files following primary → backup"]);
  const sync = group.steps.at(-1)!;
  assert.deepEqual(sync.actions.map((a) => a.title.replace(/ (primary|backup|go-upload)\b.*$/, '')), ['Folders for', 'Key pair for upload sync on', "Let", 'Pin', 'Sync loop script for', 'Keep the sync of', 'go-upload'],
    'the sync is built in its order: folders, key, authorisation, host key, script, loop, a complete pass');
  assert.ok(titles.indexOf('HAProxy is installed on primary, backup') < titles.indexOf(group.title), 'its checks come first');
  assert.ok(titles.indexOf('rsync and ssh on primary, rsync and rrsync on backup') < titles.indexOf(group.title), "the sync's check too");
  assert.ok(titles.indexOf(group.title) > titles.indexOf('Turn on semi-sync on primary and see the replicas acknowledge'), 'after the replication it needs');
  assert.ok(titles.indexOf(group.title) < titles.indexOf('Installation files archived on the backup stores'), 'the archives hold the rewritten bindings');
  assert.ok(titles.includes('Installation files archived on the backup stores'));
  const only = await prepareScenario().build({ failed: '', parts: ['redis'] }, ctx);
  assert.deepEqual(only.map((s) => s.title), ['Redis replicas follow the primary']);
});

test('two services with upload files: both syncs in ONE step of the group, one after the other (they share the source\'s key and the target\'s authorized_keys)', async () => {
  const fleet = await example();
  fleet.services['go-media'] = { ...fleet.services['go-upload']!, dir: '/wwwroot/go/go-media', dataDirs: ['/wwwroot/go/go-media/files'], port: 8009, health: undefined };
  const t = topology(fleet);
  assert.deepEqual(t.uploads.map((u) => `${u.service}:${u.source.name}->${u.target.name}`).sort(), ['go-media:primary->backup', 'go-upload:primary->backup']);
  const ctx = { fleet, remote: () => { throw new Error('no machine is reached while building'); }, secret: async () => '', log: () => {} };
  const steps = await prepareScenario().build({ failed: '' }, ctx);
  const group = steps.find((s) => s.kind === 'parallel' && s.title.endsWith(', upload sync'));
  assert.ok(group?.kind === 'parallel', steps.map((s) => s.title).join(' | '));
  const syncs = group.steps.filter((s) => s.title.startsWith('Keep the upload files following'));
  assert.equal(syncs.length, 1, group.steps.map((s) => s.title).join(' | '));
  const keys = syncs[0]!.actions.filter((a) => a.title.startsWith('Key pair for upload sync on primary'));
  assert.equal(keys.length, 2, 'each sync asks for the key; the second finds it made');
  assert.equal(syncs[0]!.actions.length, 14);
});

test('two db-primary machines are refused with both names', async () => {
  const fleet = await example();
  fleet.machines.find((m) => m.name === 'backup')!.roles.push('db-primary');
  assert.throws(() => topology(fleet), /2 machines with role db-primary \(primary, backup\)/);
});

function stepRecord(index: number, title: string, changes: StepRecord['changes'], parent: number | null = null): StepRecord {
  return { index, parent, title, machines: [], mutating: true, undoable: false, state: 'verified', applications: 1, startedAt: 0, endedAt: 1, output: '', error: null, errorCode: null, changes };
}

test('the report counts steps whose plan held commands, SQL or diffs; notes alone are no change', () => {
  const run = { mode: 'auto', error: null, steps: [
    stepRecord(0, 'group', []),
    stepRecord(1, 'a', [{ kind: 'sql', machine: 'm', sql: 'START SLAVE', params: [] }], 0),
    stepRecord(2, 'b', [{ kind: 'note', text: 'already there' }], 0),
  ] } as unknown as RunRecord;
  const report = prepareReport(run);
  assert.deepEqual(report, { changed: ['a'], unchanged: ['b'], failed: [] });
  assert.match(renderPrepareReport(run, report), /^changed 1 of 2 step/);
  const none = prepareReport({ ...run, steps: [stepRecord(0, 'b', [])] } as RunRecord);
  assert.equal(renderPrepareReport(run, none), 'nothing to change: the fleet is already in its prepared state\n');
});
