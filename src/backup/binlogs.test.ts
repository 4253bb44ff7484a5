/** The pure parts of binlog shipping: GTID order, gaps, which files a replay takes, the loop's files. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fleetSchema } from '../fleet/schema.ts';
import { binlogGaps, gtidAtOrBefore, replayRun, shipConf, shippingStores, shipPaths, shipScript, type ShippedFile } from './binlogs.ts';

const f = (n: number, startsAfter: string): ShippedFile => ({ name: `mysql-bin.${String(n).padStart(6, '0')}`, bytes: 1000, mtime: n, startsAfter });

test('GTID lists compare per domain', () => {
  assert.ok(gtidAtOrBefore('0-12-40', '0-12-41'));
  assert.ok(gtidAtOrBefore('0-12-41', '0-12-41'));
  assert.ok(!gtidAtOrBefore('0-12-42', '0-12-41'));
  assert.ok(gtidAtOrBefore('', '0-12-1'), 'nothing is before everything');
  assert.ok(!gtidAtOrBefore('0-12-5,1-3-9', '0-12-6'), 'a domain the other lacks is after it');
  assert.ok(gtidAtOrBefore('0-12-5,1-3-9', '1-3-9,0-13-7'), 'the server id does not order transactions');
});

test('a replay takes the unbroken run of files from the one holding the copy\'s position, and stops before a gap', () => {
  const files = [f(1, ''), f(2, '0-12-10'), f(3, '0-12-20'), f(4, '0-12-30')];
  assert.deepEqual(replayRun(files, '0-12-25').files.map((x) => x.name), ['mysql-bin.000003', 'mysql-bin.000004']);
  assert.deepEqual(replayRun(files, '0-12-25').gaps, []);
  assert.deepEqual(replayRun(files, '0-12-5').files.length, 4);
  const holed = [f(1, ''), f(2, '0-12-10'), f(4, '0-12-30'), f(5, '0-12-40')];
  const run = replayRun(holed, '0-12-15');
  assert.deepEqual(run.files.map((x) => x.name), ['mysql-bin.000002'], 'up to the gap, never across it');
  assert.match(run.gaps.join(), /mysql-bin\.000002 → mysql-bin\.000004: 1 file\(s\) missing/);
  const late = [f(7, '0-12-70'), f(8, '0-12-80')];
  assert.deepEqual(replayRun(late, '0-12-15').files, [], 'files that start after the copy do not continue it');
  assert.match(binlogGaps(late, '0-12-15').join(), /starts after 0-12-70, later than the copy's 0-12-15/);
  assert.match(binlogGaps([f(1, '0-12-50'), f(2, '0-12-40')], '').join(), /not one history/);
});

test('the shipping loop: a server id per store, TLS as the fleet has it, a script bash accepts, off-site stores only with a key to seal for', () => {
  const fleet = fleetSchema.parse({
    version: 1, name: 'f',
    machines: [
      { name: 'db', address: '198.51.100.12', roles: ['db-primary'] },
      { name: 's1', address: '198.51.100.14', roles: ['backup-store'] },
      { name: 's2', address: '198.51.100.15', roles: ['backup-store'], offsite: true },
    ],
    database: { schema: 's', user: 'u', password: 'env:P', adminPassword: 'env:A', domainTable: { name: 't', domainColumn: 'd', ipColumn: 'i', statusColumn: 's', online: 1, offline: 2 } },
    backups: { stores: ['s1', 's2'] },
    tls: { caDir: '/nonexistent/ca' },
  });
  assert.deepEqual(shippingStores(fleet).map((m) => m.name), ['s1']);
  const conf = shipConf(fleet, fleet.machines[1]!, fleet.machines[0]!);
  assert.match(conf, /^SOURCE=db$/m);
  assert.match(conf, /^HOST=198\.51\.100\.12$/m);
  assert.match(conf, /^SERVER_ID=60000$/m);
  assert.match(conf, /^TLS='--ssl --ssl-ca=\/etc\/lifeboat\/tls\/ca\.pem --ssl-verify-server-cert'$/m, 'the fleet has TLS: the store checks the primary');
  const clear = shipConf(fleetSchema.parse({ ...fleet, tls: { ...fleet.tls, enabled: false } }), fleet.machines[1]!, fleet.machines[0]!);
  assert.match(clear, /^TLS=''$/m, 'TLS off: no flags');
  execFileSync('bash', ['-n'], { input: shipScript(shipPaths(fleet)) });
  assert.deepEqual(shippingStores(fleetSchema.parse({ ...fleet, backups: { ...fleet.backups, binlogs: false } })), []);
  const keyed = fleetSchema.parse({ ...fleet, backups: { ...fleet.backups, encryptionKey: 'env:K' } });
  assert.deepEqual(shippingStores(keyed).map((m) => m.name), ['s1', 's2'], 'with a backup key the off-site store keeps the log too, sealed');
  assert.match(shipConf(keyed, keyed.machines[2]!, keyed.machines[0]!), /^SEALED=1$/m);
  assert.match(shipConf(keyed, keyed.machines[1]!, keyed.machines[0]!), /^SEALED=0$/m);
});
