import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseFleet } from '../fleet/load.ts';
import type { Fleet } from '../fleet/schema.ts';
import { LabError } from './errors.ts';
import { assertLabId, planLab } from './plan.ts';

const TINY_FLEET = `
version: 1
name: tiny
machines:
  - { name: edge-1, address: 203.0.113.9, roles: [edge], domains: [shop.example.com] }
  - { name: primary, address: 192.0.2.1, roles: [app, db-primary, redis] }
  - { name: backup, address: 192.0.2.2, roles: [app, db-replica] }
`;

function fleet(text = TINY_FLEET): Fleet {
  return parseFleet(text, 'tiny.yaml');
}

test('hosts: helpers first, fleet machines from .10 in fleet order, then two spares', () => {
  const plan = planLab('lb0', fleet());
  assert.deepEqual(
    plan.hosts.map((h) => [h.name, h.kind, h.address]),
    [
      ['dns', 'dns', '198.51.100.2'],
      ['ops', 'ops', '198.51.100.3'],
      ['client', 'client', '198.51.100.4'],
      ['edge-1', 'fleet', '198.51.100.10'],
      ['primary', 'fleet', '198.51.100.11'],
      ['backup', 'fleet', '198.51.100.12'],
      ['spare-1', 'spare', '198.51.100.13'],
      ['spare-2', 'spare', '198.51.100.14'],
    ],
  );
  assert.equal(plan.hosts[3]?.fleetAddress, '203.0.113.9');
  assert.deepEqual(plan.hosts[3]?.domains, ['shop.example.com']);
  // Switch port names fit the kernel's 15-byte limit whatever the host names are.
  assert.ok(plan.hosts.every((h) => h.port.length <= 15));
  assert.equal(new Set(plan.hosts.map((h) => h.port)).size, plan.hosts.length);
});

test('the same fleet always gives the same plan', () => {
  assert.deepEqual(planLab('lb0', fleet()), planLab('lb0', fleet()));
});

test('a fleet machine named like a lab helper is refused with a clear error', () => {
  const clash = TINY_FLEET.replace('name: backup', 'name: client');
  assert.throws(() => planLab('lb0', fleet(clash)), (e: unknown) => e instanceof LabError && e.code === 'bad-fleet' && /client/.test(e.message));
});

test('a spare the fleet already has is not added twice', () => {
  const withSpare = TINY_FLEET + '  - { name: spare-1, address: 192.0.2.9, roles: [spare] }\n';
  const names = planLab('lb0', fleet(withSpare)).hosts.map((h) => h.name);
  assert.equal(names.filter((n) => n === 'spare-1').length, 1);
  assert.ok(names.includes('spare-2'));
});

test('lab ids are short and plain (they prefix namespace names)', () => {
  for (const ok of ['lb0', 't1a2b3', 'a']) assert.doesNotThrow(() => assertLabId(ok));
  for (const bad of ['', 'LB0', '0lb', 'lab-one', 'muchtoolongid', 'a/b']) {
    assert.throws(() => assertLabId(bad), (e: unknown) => e instanceof LabError && e.code === 'bad-id');
  }
});
