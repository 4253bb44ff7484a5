/** The fleet's CA with the real openssl: private folder and key, signed requests, what counts as a good certificate. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fleetSchema } from '../fleet/schema.ts';
import { caCertPath, caKeyPath, issuedPath, mysqlTlsOptions, tlsRequired } from '../remote/tls.ts';
import { certificateProblem, ensureCa, readCa, recordIssued, signRequest } from './tls-ca.ts';
import { certificateNames } from './tls-certificates.ts';
import { changeMasterSql } from '../actions/change-master.ts';

function fleetIn(dir: string) {
  return fleetSchema.parse({
    version: 1, name: 'ca-test',
    machines: [
      { name: 'db1', address: '198.51.100.12', roles: ['db-primary', 'redis'] },
      { name: 'db2', address: '198.51.100.13', roles: ['db-replica', 'redis-replica'] },
    ],
    database: { schema: 's', user: 'u', password: 'env:P', adminPassword: 'env:A', domainTable: { name: 't', domainColumn: 'd', ipColumn: 'i', statusColumn: 's', online: 1, offline: 2 } },
    redis: {},
    tls: { caDir: join(dir, 'ca') },
  });
}

function request(dir: string, cn: string): string {
  return execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, `${cn}.key`), '-subj', `/CN=${cn}`], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
}

test('the CA: a 0700 folder, a 0600 key, made once; a signed certificate names the machine and the shared names, and is checked against the CA', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lifeboat-ca-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const fleet = fleetIn(dir);
  assert.equal(await readCa(fleet), undefined);
  const ca = await ensureCa(fleet);
  assert.equal(statSync(fleet.tls.caDir).mode & 0o777, 0o700);
  assert.equal(statSync(caKeyPath(fleet)).mode & 0o777, 0o600);
  assert.ok(ca.cert.ca, 'a CA certificate');
  const again = await ensureCa(fleet);
  assert.equal(again.cert.fingerprint256, ca.cert.fingerprint256, 'an existing CA is kept');

  const db1 = fleet.machines[0]!;
  const names = certificateNames(fleet, db1);
  assert.deepEqual(names, { dns: ['db1', 'lifeboat-mariadb', 'lifeboat-redis'], ips: ['198.51.100.12'] });
  const pem = await signRequest(fleet, request(dir, 'db1'), names, 30);
  const cert = new X509Certificate(pem);
  assert.ok(cert.checkIssued(ca.cert));
  assert.equal(cert.checkHost('db1'), 'db1');
  assert.equal(cert.checkIP('198.51.100.12'), '198.51.100.12');
  assert.equal(cert.checkHost('lifeboat-mariadb'), 'lifeboat-mariadb');
  assert.equal(certificateProblem(pem, ca, names, 10 * 86_400_000), undefined);
  assert.match(certificateProblem(pem, ca, names, 40 * 86_400_000)!, /expires on/, 'renewed when less than the margin is left');
  assert.match(certificateProblem(pem, ca, { dns: ['db2'], ips: ['198.51.100.13'] }, 0)!, /does not name DNS:db2, IP Address:198\.51\.100\.13/);
  assert.equal(certificateProblem(undefined, ca, names, 0), 'no certificate');

  // A certificate from another CA is not the fleet's.
  const other = fleetIn(join(dir, 'other'));
  await ensureCa(other);
  const foreign = await signRequest(other, request(dir, 'db1b'), names, 30);
  assert.match(certificateProblem(foreign, ca, names, 0)!, /not from the fleet's CA/);

  // Issued means required: from then on lifeboat reaches db1 only inside TLS, checking its name.
  assert.equal(tlsRequired(fleet, 'db1'), false);
  assert.equal(mysqlTlsOptions(fleet, db1, 3306), undefined);
  await recordIssued(fleet, 'db1', pem);
  assert.equal(statSync(issuedPath(fleet, 'db1')).mode & 0o777, 0o600);
  assert.equal(tlsRequired(fleet, 'db1'), true);
  const options = mysqlTlsOptions(fleet, db1, 3306)!;
  assert.equal(options.host, 'db1', 'mysql2 checks the name it connects to');
  assert.deepEqual(options.ssl.ca, readFileSync(caCertPath(fleet)));
  assert.equal(options.ssl.verifyIdentity, true);

  // The replication link goes inside TLS only when both ends hold certificates.
  const db2 = fleet.machines[1]!;
  assert.match(changeMasterSql(fleet, db1, db2, 'repl', 'pw').sql, /MASTER_SSL = 0$/);
  await recordIssued(fleet, 'db2', pem);
  const change = changeMasterSql(fleet, db1, db2, 'repl', 'pw');
  assert.match(change.sql, /MASTER_SSL = 1, MASTER_SSL_CA = \?, MASTER_SSL_VERIFY_SERVER_CERT = 1$/);
  assert.deepEqual(change.params, ['198.51.100.12', 3306, 'repl', 'pw', `${fleet.tls.machineDir}/ca.pem`]);
  assert.equal(tlsRequired(fleetSchema.parse({ ...fleet, tls: { ...fleet.tls, enabled: false } }), 'db1'), false, 'tls off: never required');
});
