/**
 * The same backup code over real SSH (a Debian sshd on 127.0.0.1 with strict host keys):
 * a store reached over SSH receives the copy by SFTP, checks it with sha256sum there, and a
 * restore onto that machine runs its scratch server over SSH.
 */
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { findNewestGoodCopy } from '../../src/backup/catalog.ts';
import { countRows } from '../../src/backup/mariadb-local.ts';
import { restoreCopy } from '../../src/backup/restore.ts';
import { runBackup } from '../../src/backup/run.ts';
import { createScratch, type Scratch } from '../../src/backup/scratch.ts';
import { checkStores } from '../../src/backup/verify.ts';
import { startMariadb, type MariadbServer } from '../support/mariadb.ts';
import { sshRemoteTo, startSshd, type Sshd } from '../support/sshd.ts';
import { backupWorld, type BackupWorld } from './support.ts';

let server: MariadbServer;
let sshd: Sshd;
let world: BackupWorld;
let scratch: Scratch | undefined;

before(async () => {
  server = await startMariadb();
  sshd = await startSshd();
  const storeB = sshRemoteTo(sshd, 'store-b');
  world = await backupWorld(server, 'ssh-test-key', { 'store-b': storeB });
  const db = await server.connect();
  try {
    await db.query('CREATE DATABASE speed');
    await db.query('CREATE TABLE speed.users (id INT PRIMARY KEY, name VARCHAR(32))');
    await db.query('CREATE TABLE speed.user_logs (id INT PRIMARY KEY)');
    await db.query("INSERT INTO speed.users VALUES (1, 'a'), (2, 'b'), (3, 'c')");
    await db.query('INSERT INTO speed.user_logs VALUES (1)');
  } finally {
    await db.end();
  }
});

after(async () => {
  await scratch?.destroy().catch(() => undefined);
  await world?.cleanup();
  await sshd?.stop();
  await server?.stop();
});

test('a store over SSH receives and verifies the copy; a restore onto it runs over SSH', async () => {
  const result = await runBackup(world.ctx, world.settings(), { kinds: ['logical'], keepAll: true });
  assert.equal(result.ok, true, JSON.stringify(result.shipped));
  assert.deepEqual((await readdir(join(world.dumpDir['store-b']!, result.stamp))).sort(), ['manifest.json', `speed-${result.stamp}.sql.zst`]);
  const checks = await checkStores(world.ctx, world.settings());
  assert.deepEqual(checks.map((c) => [c.store, c.checked[0]?.health]), [['store-a', 'good'], ['store-b', 'good'], ['store-c', 'good']]);

  // From the encrypted off-site store to the SSH machine: download, upload by SFTP, decrypt there.
  const good = await findNewestGoodCopy(world.ctx, world.settings(), { kind: 'logical', stores: ['store-c'] });
  scratch = await createScratch(world.ctx.remote('store-b'), join(world.root, 'store-b', 'work'), 'ssh-target');
  await scratch.initialize();
  const action = restoreCopy({ copy: good, to: 'store-b', settings: world.settings(), target: scratch.local });
  await action.apply(world.ctx);
  await action.verify(world.ctx);
  assert.deepEqual(await countRows(world.ctx.remote('store-b'), scratch.local, 'speed'), { users: 3, user_logs: 0 });
  assert.match(sshd.log(), /Accepted publickey/);
});
