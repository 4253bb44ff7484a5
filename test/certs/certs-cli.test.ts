/**
 * `lifeboat certs list|issue|renew` as an operator runs it, on a fleet file whose zone lives
 * in a real BIND (RFC 2136) and whose ACME directory is Debian's Pebble validating through it:
 * every domain and spare domain gets its own certificate, a second run asks the CA nothing,
 * and bad input (a domain not in the fleet, a fleet without `acme`) is refused with exit 2.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { bindSkip, startBind, type Bind } from '../support/bind.ts';
import { lifeboat } from '../support/cli.ts';
import { pebbleSkip, startPebble, type Pebble } from '../support/pebble.ts';

const ZONE = 'shop.example';

describe('lifeboat certs, against Pebble and BIND', { skip: bindSkip || pebbleSkip }, () => {
  let bind: Bind;
  let pebble: Pebble;
  let dir: string;
  let fleetFile: string;

  before(async () => {
    bind = await startBind(ZONE);
    pebble = await startPebble(`127.0.0.1:${bind.port}`);
    dir = await mkdtemp(join(tmpdir(), 'lifeboat-certs-cli-'));
    await writeFile(join(dir, 'tsig.secret'), bind.config.secret + '\n', { mode: 0o600 });
    await writeFile(join(dir, 'pebble.pem'), pebble.serverCa);
    fleetFile = join(dir, 'fleet.yaml');
    await writeFile(fleetFile, `version: 1
name: certs-test
machines:
  - { name: gw, address: 198.51.100.10, roles: [edge], domains: [www.${ZONE}, api.${ZONE}] }
spareDomains: [spare1.${ZONE}]
dns:
  zones:
    - { type: rfc2136, zone: ${ZONE}, server: 127.0.0.1, port: ${bind.port}, keyName: lifeboat, secret: file:${join(dir, 'tsig.secret')} }
acme:
  directory: ${pebble.directoryUrl}
  dir: ${join(dir, 'acme')}
  serverCa: ${join(dir, 'pebble.pem')}
`);
  });
  after(async () => {
    await pebble?.stop();
    await bind?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('list says what is missing; issue gets one certificate per domain and spare domain; a second issue asks nothing', async () => {
    const missing = await lifeboat(['certs', 'list', '--fleet', fleetFile, '--json']);
    assert.equal(missing.code, 1, missing.stderr);
    assert.deepEqual((JSON.parse(missing.stdout) as Array<{ status: string }>).map((r) => r.status), ['missing', 'missing', 'missing']);

    const issued = await lifeboat(['certs', 'issue', '--fleet', fleetFile, '--json'], 120_000);
    assert.equal(issued.code, 0, issued.stdout + issued.stderr);
    const rows = JSON.parse(issued.stdout) as Array<{ domain: string; holder: string; status: string; daysLeft: number }>;
    assert.deepEqual(rows.map((r) => [r.domain, r.holder, r.status]), [[`www.${ZONE}`, 'gw', 'issued'], [`api.${ZONE}`, 'gw', 'issued'], [`spare1.${ZONE}`, 'spare', 'issued']]);
    assert.ok(rows.every((r) => r.daysLeft > 30));
    assert.equal(pebble.issuedCount(), 3);

    const listed = await lifeboat(['certs', 'list', '--fleet', fleetFile]);
    assert.equal(listed.code, 0, listed.stdout);
    assert.match(listed.stdout, new RegExp(`^ok +spare1\\.${ZONE.replace('.', '\\.')} +spare `, 'm'));

    const renew = await lifeboat(['certs', 'renew', '--fleet', fleetFile, '--json'], 120_000);
    assert.equal(renew.code, 0, renew.stderr);
    assert.ok((JSON.parse(renew.stdout) as Array<{ status: string }>).every((r) => r.status === 'ok'));
    assert.equal(pebble.issuedCount(), 3, 'the CA was asked for nothing');
  });

  test('a domain not in the fleet, a fleet without acme: exit 2, said plainly', async () => {
    const unknown = await lifeboat(['certs', 'issue', '--fleet', fleetFile, '--domain', 'elsewhere.example']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /not a domain of the fleet file.*elsewhere\.example/);
    const bare = join(dir, 'bare.yaml');
    await writeFile(bare, `version: 1\nname: bare\nmachines:\n  - { name: gw, address: 198.51.100.10, roles: [edge], domains: [www.${ZONE}] }\n`);
    const noAcme = await lifeboat(['certs', 'issue', '--fleet', bare]);
    assert.equal(noAcme.code, 2, noAcme.stderr);
    assert.match(noAcme.stderr, /no `acme` section/);
  });
});
