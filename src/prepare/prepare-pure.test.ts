/** The pure parts of prepare: file texts, names and parsing that the real-server tests rely on. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { archiveName } from './install-archive.ts';
import { withReplicaBlock } from './redis-replica.ts';
import { clientTlsFlags, gtidFromSeedOutput, seedCommand } from './replica-seed.ts';
import { tlsSettings, withTlsBlock } from './redis-tls.ts';
import { tlsDropInText } from './mariadb-tls.ts';
import { fleetSchema } from '../fleet/schema.ts';
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

const tlsFleet = () => fleetSchema.parse({
  version: 1, name: 'f', machines: [{ name: 'primary', address: '198.51.100.12', roles: ['db-primary', 'redis'] }],
  database: { schema: 's', user: 'u', password: 'env:P', adminPassword: 'env:A', domainTable: { name: 't', domainColumn: 'd', ipColumn: 'i', statusColumn: 's', online: 1, offline: 2 } },
  redis: {},
});

test("Redis's TLS block and the replication block settle: each in place after one run of both, in either order", () => {
  const settings = tlsSettings(tlsFleet());
  assert.deepEqual(settings.map(([n]) => n), ['tls-cert-file', 'tls-key-file', 'tls-ca-cert-file', 'tls-auth-clients', 'tls-replication', 'tls-port'], 'the port opens last, once the certificate is set');
  const before = 'port 6379\ntls-port 7000\nsave 60 1000\n';
  const both = withReplicaBlock(withTlsBlock(before, settings), primary, 6380, undefined);
  assert.doesNotMatch(both, /tls-port 7000/, "the fleet's TLS port replaces another");
  assert.equal(withTlsBlock(both, settings), both);
  assert.equal(withReplicaBlock(withTlsBlock(both, settings), primary, 6380, undefined), both);
  const other = withTlsBlock(withReplicaBlock(before, primary, 6380, undefined), settings);
  assert.equal(withReplicaBlock(withTlsBlock(other, settings), primary, 6380, undefined), withReplicaBlock(other, primary, 6380, undefined));
  assert.match(both, /^tls-port 16380$/m, "the default TLS port");
  assert.match(both, /^tls-replication yes$/m);
});

test("MariaDB's TLS drop-in names the machine's files; the seed's clients check the primary's certificate", () => {
  const fleet = tlsFleet();
  const text = tlsDropInText(fleet, fleet.machines[0]!);
  assert.match(text, /^\[mariadbd\]\nssl_ca = \/etc\/lifeboat\/tls\/ca\.pem\nssl_cert = \/etc\/lifeboat\/tls\/server\.pem\nssl_key = \/etc\/lifeboat\/tls\/mariadb-key\.pem$/m);
  assert.equal(clientTlsFlags(undefined), '');
  const command = seedCommand(primary, { name: 'backup', address: '198.51.100.13' } as Machine, 3306, 's', '/etc/lifeboat/tls/ca.pem');
  assert.equal(command.match(/--ssl --ssl-ca=\/etc\/lifeboat\/tls\/ca\.pem --ssl-verify-server-cert/g)?.length, 2, 'the dump from the primary and the load on the replica');
});
