/** The pure parts of prepare: file texts, names and parsing that the real-server tests rely on. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { archiveName } from './install-archive.ts';
import { withReplicaBlock } from './redis-replica.ts';
import { gtidFromSeedOutput } from './replica-seed.ts';
import { commonRoot } from './upload-sync.ts';
import type { Machine } from '../fleet/schema.ts';
import { ActionError } from '../actions/action.ts';

const primary = { name: 'primary', address: '198.51.100.12' } as Machine;

test('the Redis block replaces replicaof/slaveof lines and an older block, and keeps everything else', () => {
  const before = 'port 6379\nslaveof 10.0.0.1 6379\nmasterauth old\nsave 60 1000\n';
  const once = withReplicaBlock(before, primary, 6379, 'pw');
  assert.doesNotMatch(once, /slaveof|masterauth old/);
  assert.match(once, /^port 6379\nsave 60 1000\n\n# --- lifeboat prepare/);
  assert.match(once, /^replicaof 198\.51\.100\.12 6379$/m);
  assert.match(once, /^masterauth pw$/m);
  assert.equal(withReplicaBlock(once, primary, 6379, 'pw'), once, 'applying it again changes nothing');
  assert.doesNotMatch(withReplicaBlock(before, primary, 6379, undefined), /masterauth pw/);
});

test('the GTID of the seed is read from the marked dump line, and a dump without one is refused', () => {
  assert.equal(gtidFromSeedOutput("noise\n@@lifeboat-gtid -- SET GLOBAL gtid_slave_pos='0-12-1385';\n"), '0-12-1385');
  assert.equal(gtidFromSeedOutput("@@lifeboat-gtid -- SET GLOBAL gtid_slave_pos='0-1-5,1-2-7';"), '0-1-5,1-2-7');
  assert.equal(gtidFromSeedOutput("@@lifeboat-gtid -- SET GLOBAL gtid_slave_pos='';"), '');
  assert.throws(() => gtidFromSeedOutput('mariadb-dump: Got error'), ActionError);
  assert.throws(() => gtidFromSeedOutput("@@lifeboat-gtid -- SET GLOBAL gtid_slave_pos='0-1-5; DROP';"), ActionError);
});

test('rrsync is confined to the deepest folder holding every synced folder', () => {
  assert.equal(commonRoot(['/wwwroot/go/go-upload/uploads']), '/wwwroot/go/go-upload/uploads');
  assert.equal(commonRoot(['/wwwroot/go/go-upload/uploads', '/wwwroot/go/go-upload/avatars/']), '/wwwroot/go/go-upload');
  assert.equal(commonRoot(['/a/b', '/c/d']), '/');
});

test('archive names carry the content hash; off-site ones end in .enc', () => {
  assert.equal(archiveName('primary', '0123456789abcdef', false), 'install-primary-0123456789abcdef.tar.gz');
  assert.equal(archiveName('primary', '0123456789abcdef', true), 'install-primary-0123456789abcdef.tar.gz.enc');
});
