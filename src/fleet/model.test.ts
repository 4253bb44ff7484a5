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
