import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parseFleet } from '../fleet/load.ts';
import { machinesWithRole } from '../fleet/model.ts';
import type { Fleet } from '../fleet/schema.ts';
import { repoPath } from '../util/repo.ts';
import { editRoles, recordRoles, RolesNotRecorded } from './record-roles.ts';
import { scenarioNamed } from './scenarios/index.ts';
import type { ScenarioInput } from './step.ts';

const STAMP = { run: 'r-1234', since: '2026-11-30T01:00:00.000Z' };
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lifeboat-roles-'));
});
after(() => rm(dir, { recursive: true, force: true }));

/** An example fleet with one spare added, as text: every scenario has what it needs. */
async function exampleWithSpare(example: string): Promise<string> {
  const text = await readFile(repoPath('examples', example, 'fleet.yaml'), 'utf8');
  const at = text.indexOf('\n  - name: ') + 1;
  return `${text.slice(0, at)}  - { name: spare-1, address: 192.0.2.250, roles: [spare] }\n${text.slice(at)}`;
}

/** What each scenario's journaled input looks like after its resolve, on this fleet. */
function inputs(fleet: Fleet): Record<string, ScenarioInput> {
  const primary = machinesWithRole(fleet, 'db-primary')[0]!.name;
  const replica = machinesWithRole(fleet, 'db-replica')[0]!.name;
  return {
    'edge-down': { failed: machinesWithRole(fleet, 'edge')[0]!.name },
    'backup-down': { failed: replica, replacement: 'spare-1' },
    'primary-down': { failed: primary, heir: replica, database: { mode: 'promote', acceptDataLoss: false }, installFromArchive: [] },
    'both-app-down': { failed: primary, replacement: 'spare-1' },
    'total-loss': { failed: primary, replacement: 'spare-1' },
  };
}

for (const example of ['go-speed', 'shopfront']) {
  test(`${example}: every scenario's roles after it recovered make a fleet file that loads, comments and order kept`, async () => {
    const text = await exampleWithSpare(example);
    const fleet = parseFleet(text);
    for (const [name, input] of Object.entries(inputs(fleet))) {
      const changes = scenarioNamed(name)!.rolesAfter!(input, fleet);
      const edited = editRoles(text, changes, STAMP);
      const after = parseFleet(edited, `${example} after ${name}`);
      const failed = after.machines.find((m) => m.name === input.failed)!;
      assert.deepEqual(failed.roles, [], `${name}: the failed machine holds nothing`);
      assert.deepEqual(failed.down, { ...STAMP, roles: fleet.machines.find((m) => m.name === input.failed)!.roles }, `${name}: what it held is kept`);
      // Only roles lines changed and down lines were added: every comment is still there.
      const comments = (t: string) => t.split('\n').filter((l) => l.trim().startsWith('#'));
      assert.deepEqual(comments(edited), comments(text), `${name}: comments kept`);
      if (name === 'primary-down') {
        const heir = after.machines.find((m) => m.name === input.heir)!;
        assert.ok(heir.roles.includes('db-primary') && !heir.roles.includes('db-replica'), `the heir is the primary: ${heir.roles.join(', ')}`);
        assert.ok(heir.roles.includes('job') && heir.roles.includes('upload') && heir.roles.includes('redis'));
        assert.equal(machinesWithRole(after, 'db-replica').length, 0, 'there is no replica any more');
      }
      if (name === 'both-app-down' || name === 'total-loss') {
        assert.ok(after.machines.find((m) => m.name === 'spare-1')!.roles.includes('db-primary'), `${name}: the spare is the primary`);
        assert.ok(!after.machines.find((m) => m.name === 'spare-1')!.roles.includes('spare'));
      }
    }
  });
}

test('recordRoles writes atomically with the previous version kept, prints the diff, and leaves a file it cannot make valid as it was', async () => {
  const text = await exampleWithSpare('go-speed');
  const file = join(dir, 'fleet.yaml');
  await writeFile(file, text);
  const fleet = parseFleet(text);
  const changes = scenarioNamed('primary-down')!.rolesAfter!(inputs(fleet)['primary-down']!, fleet);
  const recorded = await recordRoles(file, changes, STAMP);
  // Only the roles lines and the new down line differ, in the file's own style.
  const changed = recorded.diff.split('\n').filter((l) => /^[-+] /.test(l));
  assert.deepEqual(changed, [
    '-    roles: [app, db-primary, redis, upload, job]',
    '+    roles: []',
    '+    down: {since: 2026-11-30T01:00:00.000Z, run: r-1234, roles: [app, db-primary, redis, upload, job]}',
    '-    roles: [app, db-replica, redis-replica, backup-store]',
    '+    roles: [app, backup-store, db-primary, redis, upload, job]',
  ]);
  assert.ok(recorded.backupPath && (await readFile(recorded.backupPath, 'utf8')) === text, 'the previous version is kept');
  assert.equal(machinesWithRole(recorded.fleet, 'db-primary')[0]!.name, 'backup');
  // Again: the file already says so.
  assert.equal((await recordRoles(file, changes, STAMP)).diff, '');

  const now = await readFile(file, 'utf8');
  const files = (await readdir(dir)).length;
  await assert.rejects(recordRoles(file, [{ machine: 'report', roles: ['db-primary'] }], STAMP), (e: unknown) =>
    e instanceof RolesNotRecorded && /exactly one machine must hold role `db-primary`/.test(e.message));
  await assert.rejects(recordRoles(file, [{ machine: 'nobody', roles: ['app'] }], STAMP), /no machine nobody/);
  assert.equal(await readFile(file, 'utf8'), now, 'a refused change leaves the file as it was');
  assert.equal((await readdir(dir)).length, files, 'and no stray file');
});

test('a machine written on one line is written again on one line; bringing it back removes its down line', () => {
  const text = `version: 1\nname: t\nmachines:\n  - { name: a, address: 192.0.2.1, roles: [ edge ] }  # the only edge\n  - name: b\n    address: 192.0.2.2\n    roles: [edge]\n    down: {since: x, run: r, roles: [edge]}\n    notes: back soon\n`;
  const out = editRoles(text, [{ machine: 'a', down: true }, { machine: 'b', roles: ['edge'] }], STAMP);
  assert.equal(out, `version: 1\nname: t\nmachines:\n  - { name: a, address: 192.0.2.1, roles: [], down: { since: 2026-11-30T01:00:00.000Z, run: r-1234, roles: [ edge ] } }  # the only edge\n  - name: b\n    address: 192.0.2.2\n    roles: [edge]\n    notes: back soon\n`);
  assert.equal(parseFleet(out).machines[1]!.down, undefined);
});

test('block-style lists stay block lists (as the lab writes its fleet files); a down machine comes back', () => {
  const text = [
    'version: 1', 'name: t', 'machines:',
    '  - name: a', '    address: 192.0.2.1', '    roles:', '      - edge', '    domains:', '      - a.example.com',
    '  - name: b', '    address: 192.0.2.2', '    roles:', '      - edge', '      - spare', '    notes: last key',
    '  - name: c', '    address: 192.0.2.3', '    roles:', '      - edge', '',
  ].join('\n');
  const out = editRoles(text, [{ machine: 'a', down: true }, { machine: 'b', roles: ['edge'] }, { machine: 'c', down: true }], STAMP);
  assert.equal(out, [
    'version: 1', 'name: t', 'machines:',
    '  - name: a', '    address: 192.0.2.1', '    roles: []', '    domains:', '      - a.example.com',
    '    down: {since: 2026-11-30T01:00:00.000Z, run: r-1234, roles: [edge]}',
    '  - name: b', '    address: 192.0.2.2', '    roles:', '      - edge', '    notes: last key',
    '  - name: c', '    address: 192.0.2.3', '    roles: []',
    '    down: {since: 2026-11-30T01:00:00.000Z, run: r-1234, roles: [edge]}', '',
  ].join('\n'));
  const back = editRoles(out, [{ machine: 'a', roles: ['edge'] }, { machine: 'c', down: true }], { run: 'r-2', since: 'later' });
  assert.match(back, /  - name: a\n    address: 192.0.2.1\n    roles: \[edge\]\n    domains:\n      - a.example.com\n  - name: b/, 'back: its down line is gone');
  assert.match(back, /down: \{since: later, run: r-2, roles: \[edge\]\}\n$/, 'a machine already down keeps the roles it held');
  assert.equal(parseFleet(back).machines.filter((m) => m.down).length, 1);
});

test('a spare taking a store\'s place renames that item of backups.stores in place, flow or block list, and nothing else', () => {
  const head = 'version: 1\nname: t\nmachines:\n  - { name: a, address: 192.0.2.1, roles: [backup-store] }\n  - { name: b, address: 192.0.2.2, roles: [backup-store] }\n  - { name: s, address: 192.0.2.3, roles: [spare] }\n';
  const changes = [{ machine: 's', roles: ['backup-store' as const] }, { machine: 's', storeInPlaceOf: 'a' }, { machine: 'a', down: true as const }];
  const flowText = `${head}backups: { stores: [a, b], dumpDir: /d }  # where copies go\n`;
  const flowOut = editRoles(flowText, changes, STAMP);
  assert.match(flowOut, /^backups: \{ stores: \[s, b\], dumpDir: \/d \}  # where copies go$/m);
  assert.deepEqual(parseFleet(flowOut).backups?.stores, ['s', 'b']);
  const blockText = `${head}backups:\n  stores:\n    - b\n    - a   # the old one\n  dumpDir: /d\n`;
  const blockOut = editRoles(blockText, changes, STAMP);
  assert.match(blockOut, /\n  stores:\n    - b\n    - s   # the old one\n  dumpDir: \/d\n$/);
  assert.deepEqual(parseFleet(blockOut).backups?.stores, ['b', 's']);
  assert.throws(() => editRoles(flowText, [{ machine: 's', storeInPlaceOf: 'zz' }], STAMP), (e) => e instanceof RolesNotRecorded && /backups\.stores does not name zz/.test(e.message));
});

test('a machine that is down holds no role, and one with no role must be down', () => {
  const base = `version: 1\nname: t\nmachines:\n  - { name: a, address: 192.0.2.1, roles: [edge] }\n`;
  assert.doesNotThrow(() => parseFleet(base + `  - { name: b, address: 192.0.2.2, roles: [], down: { since: x, run: r, roles: [edge] } }\n`));
  assert.throws(() => parseFleet(base + `  - { name: b, address: 192.0.2.2, roles: [] }\n`), /expected at least one role/);
  assert.throws(() => parseFleet(base + `  - { name: b, address: 192.0.2.2, roles: [edge], down: { since: x, run: r, roles: [] } }\n`), /a machine that is down holds no role/);
});
