import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseFleet } from '../fleet/load.ts';
import { MINIMAL_DATABASE_YAML } from '../fleet/fixtures.ts';
import { fleetHostFolders } from './fleet-folders.ts';

const fleet = (extra: string) =>
  parseFleet(
    `version: 1
name: f
machines:
  - { name: a, address: 10.0.0.1, roles: [app, db-primary, backup-store] }
services:
  api: { roles: [app], dir: /srv/api, dataDirs: [/data/media], driver: { type: systemd, unit: api } }
bindings:
  - { service: api, file: /srv/api/conf/.env, format: env, keys: { DB_HOST: mysql-host } }
${MINIMAL_DATABASE_YAML}${extra}`,
    'f.yaml',
  );

const onThisMachine = new Set(['/var', '/var/backups', '/etc', '/etc/nginx']);
const exists = (p: string) => onThisMachine.has(p);

test('folders the fleet names become private per host: whole new top-level folders, the deepest existing /var ancestor', () => {
  const { folders, problems } = fleetHostFolders(fleet('backups: { stores: [a], dumpDir: /var/backups/lifeboat/dumps, installDir: /var/backups/lifeboat/install }'), exists);
  assert.deepEqual(problems, []);
  assert.deepEqual(folders.map((f) => [f.path, f.topLevel]), [['/srv', true], ['/data', true], ['/var/backups', false]]);
});

test("the seed's folders come from its fleet file too: /wwwroot and /shell, nothing the lab lists by name", () => {
  const seed = parseFleet(readFileSync(new URL('../../examples/go-speed/fleet.yaml', import.meta.url), 'utf8'), 'fleet.yaml');
  const { folders, problems } = fleetHostFolders(seed, exists);
  assert.deepEqual(problems, []);
  assert.deepEqual(folders.map((f) => [f.path, f.topLevel]), [['/shell', true], ['/wwwroot', true]]);
});

test('a path the lab cannot make private is refused, naming it', () => {
  const { problems } = fleetHostFolders(fleet('backups: { stores: [a], dumpDir: /var/nothing-here/dumps, installDir: /usr/local/install }'), exists);
  assert.equal(problems.length, 2);
  assert.match(problems[0]!, /\/var\/nothing-here\/dumps/);
  assert.match(problems[1]!, /\/usr\/local\/install: under \/usr/);
});
