/**
 * Certificates from a real ACME server: Debian's Pebble, validating DNS-01 against a real
 * BIND that the RFC 2136 provider updates (both on 127.0.0.1, started here, stopped by pid).
 * A certificate is issued for two names and chains to Pebble's root; asked again, the held
 * one serves and Pebble issues nothing; 30 days before it expires it is renewed; an ACME
 * server that is down, DNS credentials that are refused, a challenge that is never published
 * are each a clear error with nothing half-written; five failures within the hour make the
 * name wait.
 */
import assert from 'node:assert/strict';
import { X509Certificate, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CertError, certificateFolder, directoryFolder, ensureCertificate, modeOf, type AcmeSettings } from '../../src/certs/acme.ts';
import { Rfc2136Provider } from '../../src/dns/rfc2136.ts';
import type { DnsProvider } from '../../src/dns/provider.ts';
import { bindSkip, freePort, startBind, type Bind } from '../support/bind.ts';
import { pebbleSkip, startPebble, type Pebble } from '../support/pebble.ts';

const ZONE = 'shop.example';
const isCert = (code: CertError['code']) => (e: unknown) => e instanceof CertError && e.code === code;

describe('ACME DNS-01 against Pebble and BIND', { skip: bindSkip || pebbleSkip }, () => {
  let bind: Bind;
  let pebble: Pebble;
  let dir: string;
  let dns: DnsProvider;
  // One try on the network: a server that is down is not waited for here (acme-client's default waits 75 s).
  const settings = (over: Partial<AcmeSettings> = {}): AcmeSettings => ({ directoryUrl: pebble.directoryUrl, dir, dns: () => dns, serverCa: pebble.serverCa, retry: { attempts: 0, delayS: 0 }, ...over });

  before(async () => {
    bind = await startBind(ZONE);
    pebble = await startPebble(`127.0.0.1:${bind.port}`);
    dir = await mkdtemp(join(tmpdir(), 'lifeboat-acme-'));
    dns = new Rfc2136Provider(bind.config);
  });
  after(async () => {
    await pebble?.stop();
    await bind?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('issued for two names, chained to the CA, kept privately; asked again, nothing is issued', async () => {
    const first = await ensureCertificate(settings(), ['www.shop.example', 'shop.example']);
    assert.equal(first.issued, true);
    assert.deepEqual(first.certificate.names, ['shop.example', 'www.shop.example']);
    assert.ok(first.certificate.notAfter.getTime() - Date.now() > 30 * 86_400_000, 'more than 30 days left');
    // The chain: the leaf signed by the intermediate, the intermediate by Pebble's root.
    const pems = (await readFile(first.certPath, 'utf8')).match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
    const [leaf, intermediate] = pems.map((p) => new X509Certificate(p));
    const root = new X509Certificate(await pebble.root());
    assert.ok(leaf!.verify(intermediate!.publicKey) && intermediate!.verify(root.publicKey), 'chains to the ACME server\'s root');
    assert.equal(await modeOf(first.keyPath), 0o600);
    assert.equal(await modeOf(dir), 0o700);
    assert.deepEqual((await dns.get('_acme-challenge.www.shop.example', 'TXT')).values, [], 'the challenge record is taken away');
    const issued = pebble.issuedCount();
    assert.equal(issued, 1);

    const again = await ensureCertificate(settings(), ['shop.example', 'www.shop.example']);
    assert.equal(again.issued, false, again.reason);
    assert.equal(pebble.issuedCount(), issued, 'the CA issued nothing more');
  });

  test('renewed 30 days before it expires', async () => {
    const held = await ensureCertificate(settings(), ['www.shop.example', 'shop.example']);
    const late = new Date(held.certificate.notAfter.getTime() - 10 * 86_400_000);
    const before = pebble.issuedCount();
    const renewed = await ensureCertificate(settings({ now: () => late }), ['www.shop.example', 'shop.example']);
    assert.equal(renewed.issued, true);
    assert.match(renewed.reason, /expires in 10 day/);
    assert.equal(pebble.issuedCount(), before + 1);
  });

  test('an ACME server that is down, DNS credentials refused: clear errors, nothing written', async () => {
    const down = `https://127.0.0.1:${await freePort()}/dir`;
    await assert.rejects(ensureCertificate(settings({ directoryUrl: down }), ['api.shop.example']), isCert('unreachable'));
    assert.ok(!existsSync(join(directoryFolder(dir, down), 'certs')), 'no certificate folder');
    const refused = new Rfc2136Provider({ ...bind.config, secret: randomBytes(32).toString('base64') });
    await assert.rejects(ensureCertificate(settings({ dns: () => refused }), ['api.shop.example']), isCert('dns-refused'));
    assert.ok(!existsSync(certificateFolder(dir, pebble.directoryUrl, ['api.shop.example'])));
  });

  test('a challenge never published fails validation, is counted, and the fifth failure within the hour makes the name wait', async () => {
    const silent: DnsProvider = { describe: 'publishes nothing', get: async (name, type) => ({ name, type, values: [], ttl: 0 }), set: async () => undefined, remove: async () => undefined };
    await assert.rejects(ensureCertificate(settings({ dns: () => silent }), ['cdn.shop.example']), isCert('validation-failed'));
    const failuresFile = join(directoryFolder(dir, pebble.directoryUrl), 'failures.json');
    const now = Date.now();
    await writeFile(failuresFile, JSON.stringify({ 'cdn.shop.example': [now - 50 * 60_000, now - 40 * 60_000, now - 30 * 60_000, now - 20 * 60_000, now - 10 * 60_000] }));
    const before = pebble.issuedCount();
    await assert.rejects(ensureCertificate(settings(), ['cdn.shop.example']), (e: unknown) => isCert('backoff')(e) && /not asked again before/.test((e as Error).message));
    assert.equal(pebble.issuedCount(), before);
  });
});
