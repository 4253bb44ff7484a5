import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readBinding } from '../../actions/config-bindings.ts';
import { parseFleet } from '../../fleet/load.ts';
import { MINIMAL_DATABASE_YAML } from '../../fleet/fixtures.ts';
import { repoPath } from '../../util/repo.ts';
import { LabError } from '../errors.ts';
import { Lab } from '../lab.ts';
import { trafficPlan } from '../traffic/plan.ts';
import { bindingFileText, richVariantOf, standInProblems } from './standins.ts';

const seed = parseFleet(readFileSync(repoPath('examples', 'go-speed', 'fleet.yaml'), 'utf8'), 'seed.yaml');
const shop = parseFleet(readFileSync(repoPath('examples', 'shopfront', 'fleet.yaml'), 'utf8'), 'shop.yaml');
const targets = {
  db: { host: '198.51.100.13', port: 3307, user: 'app', password: "p'w d", schema: 'shop' },
  redis: { host: '198.51.100.14', port: 6380 },
};

test('every binding file the lab writes reads back, in its own format, as the addresses it was written with', () => {
  for (const binding of [...shop.bindings, ...seed.bindings]) {
    const { target, consistent } = readBinding(bindingFileText(binding, targets), binding);
    assert.ok(consistent, binding.file);
    const kinds = Object.values(binding.keys);
    if (kinds.some((k) => k.startsWith('mysql'))) assert.equal(target.mysqlHost, '198.51.100.13', binding.file);
    if (kinds.some((k) => k === 'mysql-port' || k === 'mysql-address' || k === 'mysql-dsn-goframe')) assert.equal(target.mysqlPort, 3307, binding.file);
    if (kinds.some((k) => k.startsWith('redis'))) assert.equal(target.redisHost, '198.51.100.14', binding.file);
  }
});

test('the seed variants stand in only for services that match them in name, folder and config file', () => {
  assert.deepEqual(Object.keys(seed.services).map((s) => richVariantOf(seed, s)), ['go-api', 'go-admin', 'go-fly', 'go-upload', 'go-job']);
  assert.deepEqual(Object.keys(shop.services).map((s) => richVariantOf(shop, s)), [undefined, undefined, undefined, undefined]);
  const moved = parseFleet(readFileSync(repoPath('examples', 'go-speed', 'fleet.yaml'), 'utf8').replace('dir: /wwwroot/go/go-api', 'dir: /srv/go-api'), 'moved.yaml');
  assert.equal(richVariantOf(moved, 'go-api'), undefined, 'a go-api elsewhere runs the generic stand-in');
});

test('traffic follows the fleet: generic writes and files for shopfront, the seed mix for go-speed', () => {
  const plan = trafficPlan(shop);
  assert.deepEqual(plan.seed, []);
  assert.deepEqual(plan.generic.map((g) => [g.service, g.prefix, g.writes, g.files]), [
    ['storefront', '/storefront/', true, false],
    ['orders', '/orders/', true, false],
    ['media', '/media/', true, true],
  ]);
  assert.deepEqual(new Set(trafficPlan(seed).seed), new Set(['register', 'login', 'heartbeat', 'domains', 'chat', 'upload']));
});

const fleetWith = (services: string, bindings = '') => parseFleet(`version: 1
name: t
machines:
  - { name: a, address: 192.0.2.1, roles: [app, db-primary, redis] }
services:
${services}
${bindings}
${MINIMAL_DATABASE_YAML}`, 't.yaml');

test('services the lab cannot stand in for are named: a port of its own servers, two on one port, a binding to what the fleet lacks', () => {
  assert.deepEqual(standInProblems(shop), []);
  assert.deepEqual(standInProblems(seed), []);
  const problems = standInProblems(fleetWith(
    '  web: { roles: [app], dir: /srv/web, port: 3306 }\n  api: { roles: [app], dir: /srv/api, port: 9000 }\n  admin: { roles: [app], dir: /srv/admin, port: 9000 }',
    'bindings:\n  - { service: api, file: /srv/api/.env, format: env, keys: { R: redis-address } }',
  ));
  assert.equal(problems.length, 3, problems.join('\n'));
  assert.match(problems[0]!, /service web: port 3306 is MariaDB's/);
  assert.match(problems[1]!, /service api: its config binds Redis, but the fleet has no redis/);
  assert.match(problems[2]!, /services api and admin: both answer on port 9000/);
});

test('lab up refuses such a fleet, naming the service, before it builds anything', async () => {
  const folder = await mkdtemp(join(tmpdir(), 'lifeboat-refuse-'));
  const file = join(folder, 'fleet.yaml');
  await writeFile(file, `version: 1
name: t
machines:
  - { name: a, address: 192.0.2.1, roles: [app] }
services:
  web: { roles: [app], dir: /srv/web, port: 22 }
`);
  try {
    await assert.rejects(Lab.up({ id: 'zz9', fleetFile: file, log: () => undefined }), (error: unknown) =>
      error instanceof LabError && /service web: port 22 is sshd's/.test(error.message));
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
});
