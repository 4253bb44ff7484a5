import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseFleet } from '../fleet/load.ts';
import type { FleetStatus, MachineStatus } from '../health/fleet-status.ts';
import type { VerdictKind } from '../health/verdict.ts';
import { diagnose } from './diagnose.ts';

const text = readFileSync(new URL('../../examples/go-speed/fleet.yaml', import.meta.url), 'utf8');
const spare = '    notes: off-site copy of the SQL dumps\n';
assert.ok(text.includes(spare));
const fleet = parseFleet(text.replace(spare, `${spare}  - name: spare-1\n    address: 198.51.100.99\n    roles: [spare]\n`), 'fleet.yaml');

function snapshot(down: string[]): FleetStatus {
  const machines: MachineStatus[] = fleet.machines.map((m) => ({
    name: m.name, address: m.address, roles: [...m.roles], reachable: !down.includes(m.name), services: [], healthy: !down.includes(m.name),
  }));
  return { fleet: fleet.name, checkedAt: '', healthy: down.length === 0, risks: [], machines };
}

/** What every vantage point said: `dead` for the machines named down, unless told otherwise. */
function verdicts(down: string[], others: Record<string, VerdictKind> = {}): Map<string, VerdictKind> {
  return new Map<string, VerdictKind>([...down.map((m): [string, VerdictKind] => [m, 'dead']), ...Object.entries(others)]);
}

test('a healthy fleet needs nothing', () => {
  assert.deepEqual(diagnose(fleet, snapshot([]), verdicts([])), []);
});

test('the primary down is primary-down, with the backup alive', () => {
  const [d] = diagnose(fleet, snapshot(['primary']), verdicts(['primary']));
  assert.equal(d?.scenario, 'primary-down');
  assert.equal(d?.failed, 'primary');
});

test('the backup down is backup-down, and an edge down is edge-down', () => {
  assert.deepEqual(diagnose(fleet, snapshot(['backup']), verdicts(['backup'])).map((d) => [d.scenario, d.failed]), [['backup-down', 'backup']]);
  assert.deepEqual(diagnose(fleet, snapshot(['edge-2']), verdicts(['edge-2'])).map((d) => [d.scenario, d.failed]), [['edge-down', 'edge-2']]);
});

test('both app servers down is both-app-down; with the report server too it is total loss', () => {
  assert.equal(diagnose(fleet, snapshot(['primary', 'backup']), verdicts(['primary', 'backup']))[0]?.scenario, 'both-app-down');
  assert.equal(diagnose(fleet, snapshot(['primary', 'backup', 'report']), verdicts(['primary', 'backup', 'report']))[0]?.scenario, 'total-loss');
});

test('a primary whose database stopped answering counts as down even though SSH works', () => {
  const s = snapshot([]);
  const primary = s.machines.find((m) => m.name === 'primary')!;
  primary.mariadb = { ok: false, detail: 'does not answer' };
  assert.equal(diagnose(fleet, s, verdicts([], { primary: 'alive' }))[0]?.scenario, 'primary-down');
});

test('unreachable from the operator alone is never a diagnosis: only a dead verdict is', () => {
  const s = snapshot(['primary']);
  assert.deepEqual(diagnose(fleet, s, verdicts([], { primary: 'unreachable-from-some' })), []);
  assert.deepEqual(diagnose(fleet, s, verdicts([], { primary: 'unknown' })), []);
  assert.deepEqual(diagnose(fleet, s, new Map()), []);
});
