import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseFleet } from '../fleet/load.ts';
import type { FleetStatus, MachineStatus } from '../health/fleet-status.ts';
import { diagnose } from './diagnose.ts';

const text = readFileSync(new URL('../../examples/go-speed/fleet.yaml', import.meta.url), 'utf8');
const spare = '    notes: off-site copy of the SQL dumps\n';
assert.ok(text.includes(spare));
const fleet = parseFleet(text.replace(spare, `${spare}  - name: spare-1\n    address: 198.51.100.99\n    roles: [spare]\n`), 'fleet.yaml');

function snapshot(down: string[]): FleetStatus {
  const machines: MachineStatus[] = fleet.machines.map((m) => ({
    name: m.name, address: m.address, roles: [...m.roles], reachable: !down.includes(m.name), services: [], healthy: !down.includes(m.name),
  }));
  return { fleet: fleet.name, checkedAt: '', healthy: down.length === 0, machines };
}

test('a healthy fleet needs nothing', () => {
  assert.deepEqual(diagnose(fleet, snapshot([])), []);
});

test('the primary down is primary-down, with the backup alive', () => {
  const [d] = diagnose(fleet, snapshot(['primary']));
  assert.equal(d?.scenario, 'primary-down');
  assert.equal(d?.failed, 'primary');
});

test('the backup down is backup-down, and an edge down is edge-down', () => {
  assert.deepEqual(diagnose(fleet, snapshot(['backup'])).map((d) => [d.scenario, d.failed]), [['backup-down', 'backup']]);
  assert.deepEqual(diagnose(fleet, snapshot(['edge-2'])).map((d) => [d.scenario, d.failed]), [['edge-down', 'edge-2']]);
});

test('both app servers down is both-app-down; with the report server too it is total loss', () => {
  assert.equal(diagnose(fleet, snapshot(['primary', 'backup']))[0]?.scenario, 'both-app-down');
  assert.equal(diagnose(fleet, snapshot(['primary', 'backup', 'report']))[0]?.scenario, 'total-loss');
});

test('a primary whose database stopped answering counts as down even though SSH works', () => {
  const s = snapshot([]);
  const primary = s.machines.find((m) => m.name === 'primary')!;
  primary.mariadb = { ok: false, detail: 'does not answer' };
  assert.equal(diagnose(fleet, s)[0]?.scenario, 'primary-down');
});
