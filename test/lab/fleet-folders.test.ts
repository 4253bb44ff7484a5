/**
 * Host folders come from the fleet file: a fleet whose services live under /srv, whose
 * uploads are under /data and whose dumps are under /var/backups gets each of them private
 * and writable in every lab host, and nothing of it appears on the machine itself.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Lab } from '../../src/lab/lab.ts';
import { canRunLab, forceDown, randomLabId } from './helpers.ts';

const skip = canRunLab();

const FLEET = `version: 1
name: folders
machines:
  - { name: a, address: 203.0.113.10, roles: [app, db-primary, backup-store] }
  - { name: b, address: 203.0.113.11, roles: [app, db-replica, backup-store] }
services:
  api: { roles: [app], dir: /srv/api, dataDirs: [/data/media], port: 9000, driver: { type: systemd, unit: api } }
bindings:
  - { service: api, file: /srv/api/conf/.env, format: env, keys: { DB_HOST: mysql-host } }
database:
  schema: shop
  user: shop
  password: env:SHOP_DB_PASSWORD
  adminPassword: env:SHOP_DB_ADMIN
  domainTable: { name: hosts, domainColumn: host, ipColumn: addr, statusColumn: state, online: 1, offline: 0 }
backups: { stores: [a, b], dumpDir: /var/backups/lifeboat-lab-test/dumps, installDir: /var/backups/lifeboat-lab-test/install }
`;

describe('host folders from the fleet file', { skip }, () => {
  const id = randomLabId();
  let dir: string;
  let lab: Lab;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lb-folders-'));
    await writeFile(join(dir, 'fleet.yaml'), FLEET);
    lab = await Lab.up({ id, fleetFile: join(dir, 'fleet.yaml') });
  });
  after(async () => {
    await forceDown(id);
    await rm(dir, { recursive: true, force: true });
  });

  test('every folder the fleet names is writable in each host and private to it', async () => {
    const paths = ['/srv/api/conf', '/data/media', '/var/backups/lifeboat-lab-test/dumps', '/var/backups/lifeboat-lab-test/install'];
    for (const host of ['a', 'b']) {
      const r = await lab.exec(host, paths.map((p) => `mkdir -p ${p} && echo ${host} > ${p}/who`).join(' && '));
      assert.equal(r.code, 0, `${host}: ${r.stderr}`);
    }
    for (const host of ['a', 'b']) {
      const r = await lab.exec(host, paths.map((p) => `cat ${p}/who`).join(' && '));
      assert.deepEqual(r.stdout.trim().split('\n'), paths.map(() => host), `${host} sees only its own files`);
    }
    // A spare has the folders empty: what a and b wrote is theirs alone.
    const spare = await lab.exec('spare-1', paths.map((p) => `[ ! -e ${p}/who ]`).join(' && '));
    assert.equal(spare.code, 0, 'the spare sees none of it');
    // Nothing was created on the machine itself.
    assert.equal(existsSync('/var/backups/lifeboat-lab-test'), false);
    assert.equal(existsSync('/srv/api'), false);
    assert.equal(existsSync('/data/media'), false);
  });
});
