/** Drills pick their machines by role: the seed's fleet and others, and a clear refusal when a role is missing. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseFleet } from '../../fleet/load.ts';
import { MINIMAL_DATABASE_YAML } from '../../fleet/fixtures.ts';
import { DRILLS, DrillRoleError, drillNamed } from './drills.ts';
import { withLabSpares } from './run-drill.ts';

const seed = withLabSpares(parseFleet(readFileSync(new URL('../../../examples/go-speed/fleet.yaml', import.meta.url), 'utf8'), 'fleet.yaml'));

const other = withLabSpares(parseFleet(`version: 1
name: other
machines:
  - { name: gate, address: 10.3.0.1, roles: [edge], domains: [x.example] }
  - { name: db1, address: 10.3.0.2, roles: [app, db-primary] }
  - { name: db2, address: 10.3.0.3, roles: [app, db-replica] }
  - { name: arch, address: 10.3.0.4, roles: [backup-store] }
services:
  api: { roles: [app], dir: /srv/api, port: 7000, driver: { type: systemd, unit: api } }
${MINIMAL_DATABASE_YAML}backups: { stores: [arch] }
`, 'other.yaml'));

const cast = (name: string, fleet = seed) => drillNamed(name)!.cast(fleet);

test("the seed's fleet: the same machines the drills always used", () => {
  assert.deepEqual(cast('primary-down').faults, [{ kind: 'machine-down', host: 'primary' }]);
  assert.equal(cast('primary-down').databaseAfter, 'backup');
  assert.deepEqual(cast('backup-down').recover, ['--failed', 'backup', '--replacement', 'spare-1']);
  assert.deepEqual(cast('edge-down').faults, [{ kind: 'machine-down', host: 'edge-1' }]);
  assert.deepEqual(cast('total-loss').faults.map((f) => ('host' in f ? f.host : '')), ['primary', 'backup', 'report']);
  assert.equal(cast('both-app-down').databaseAfter, 'spare-1');
});

test('another fleet: machines found by role, whatever their names', () => {
  assert.deepEqual(cast('primary-down', other).recover, ['--failed', 'db1', '--confirm-fenced', 'db1']);
  assert.equal(cast('primary-down', other).databaseAfter, 'db2');
  // rejoin: the same failover, giving up what the stopped standby never received.
  assert.deepEqual(cast('rejoin', other).recover, ['--failed', 'db1', '--accept-data-loss', '--confirm-fenced', 'db1']);
  assert.equal(drillNamed('rejoin')!.scenario, 'primary-down');
  assert.deepEqual(cast('both-app-down', other).faults.map((f) => ('host' in f ? f.host : '')), ['db1', 'db2']);
});

test('a missing role is named, never guessed', () => {
  assert.throws(() => cast('edge-down', other), (e: unknown) => e instanceof DrillRoleError && /two machines with role edge/.test(e.message));
  assert.throws(() => cast('total-loss', other), (e: unknown) => e instanceof DrillRoleError && /off-site backup store/.test(e.message));
  for (const d of DRILLS) assert.doesNotThrow(() => d.cast(seed), d.name);
});

test('edge-down takes a spare with domains of its own as the new edge; the app-server drills keep a spare without domains', () => {
  const shopfront = withLabSpares(parseFleet(readFileSync(new URL('../../../examples/shopfront/fleet.yaml', import.meta.url), 'utf8'), 'fleet.yaml'));
  assert.deepEqual(cast('edge-down', shopfront).recover, ['--failed', 'gw-a', '--replacement', 'gw-spare']);
  assert.deepEqual(cast('edge-down', shopfront).newEdge, { machine: 'gw-spare', domains: ['shop2.example.net'] });
  assert.deepEqual(cast('backup-down', shopfront).recover, ['--failed', 'standby', '--replacement', 'spare-1'], 'gw-spare is kept for edges');
  assert.equal(cast('both-app-down', shopfront).databaseAfter, 'spare-1');
  // No spare with domains (the seed's fleet): edge-down as before, the edges left carry the traffic.
  assert.deepEqual(cast('edge-down').recover, ['--failed', 'edge-1']);
  assert.equal(cast('edge-down').newEdge, undefined);
});
