import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseFleet } from './load.ts';
import { MINIMAL_DATABASE_YAML } from './fixtures.ts';
import { configFilesOutside, dataUnder, installationDirs, machine } from './model.ts';

const fleet = parseFleet(`version: 1
name: t
machines:
  - { name: a, address: 192.0.2.1, roles: [app, upload, db-primary] }
  - { name: s, address: 192.0.2.2, roles: [backup-store] }
services:
  web: { roles: [app], dir: /srv/web }
  files: { roles: [upload], dir: /srv/files, dataDirs: [/srv/files/store, /data/files] }
bindings:
  - { service: web, file: /srv/web/.env, format: env, keys: { DB: mysql-address } }
  - { service: web, file: /etc/web/db.json, format: json, keys: { host: mysql-host } }
  - { service: files, file: /srv/files/db.json, format: json, keys: { host: mysql-host } }
extraDirs:
  - { path: /opt/scripts, roles: [app, backup-store] }
backups: { stores: [s], dumpDir: /opt/scripts/dumps }
${MINIMAL_DATABASE_YAML}`, 't.yaml');

test("a machine's installation: its services' folders, the extra folders of its roles, config files outside them", () => {
  assert.deepEqual(installationDirs(fleet, machine(fleet, 'a')), ['/srv/web', '/srv/files', '/opt/scripts']);
  assert.deepEqual(installationDirs(fleet, machine(fleet, 's')), ['/opt/scripts']);
  assert.deepEqual(configFilesOutside(fleet, machine(fleet, 'a')), ['/etc/web/db.json']);
  assert.deepEqual(configFilesOutside(fleet, machine(fleet, 's')), []);
});

test('data inside an installation folder is named relative to it, so a copy leaves it out', () => {
  assert.deepEqual(dataUnder(fleet, '/srv/files'), ['store']);
  assert.deepEqual(dataUnder(fleet, '/opt/scripts'), ['dumps']);
  assert.deepEqual(dataUnder(fleet, '/srv/web'), []);
});

test('tlsPorts: the file\'s ports, else the first from 13307 and 16380 up that nothing else of the fleet uses', async () => {
  const { tlsPorts } = await import('./model.ts');
  const { fleetSchema } = await import('./schema.ts');
  const base = {
    version: 1, name: 'f', machines: [{ name: 'a', address: '198.51.100.2', roles: ['app', 'db-primary', 'redis'] }],
    database: { schema: 's', user: 'u', password: 'env:P', adminPassword: 'env:A', domainTable: { name: 't', domainColumn: 'd', ipColumn: 'i', statusColumn: 's', online: 1, offline: 2 } },
    redis: {},
  };
  assert.deepEqual(tlsPorts(fleetSchema.parse(base)), { database: 13307, redis: 16380 });
  const crowded = fleetSchema.parse({ ...base, endpoints: { databasePort: 13307, redisPort: 16380 }, services: { web: { roles: ['app'], dir: '/srv/web', port: 13308 } } });
  assert.deepEqual(tlsPorts(crowded), { database: 13309, redis: 16381 });
  assert.deepEqual(tlsPorts(fleetSchema.parse({ ...base, tls: { databasePort: 4000, redisPort: 4001 } })), { database: 4000, redis: 4001 });
  assert.deepEqual(tlsPorts(fleetSchema.parse({ ...base, tls: { redisPort: 13307 } })), { database: 13308, redis: 13307 }, 'a default never takes the port the file gave the other');
});
