import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dnsProvider, DNS_PROVIDER_TYPES } from './registry.ts';
import { checkValues, DnsError, inZone, normalName } from './provider.ts';

test('DNS names: lower case, no trailing dot; service labels allowed first; anything else refused', () => {
  assert.equal(normalName('WWW.Shop.Example.'), 'www.shop.example');
  assert.equal(normalName('_acme-challenge.shop.example'), '_acme-challenge.shop.example');
  for (const bad of ['shop', 'a..example', '-a.example', 'a b.example', 'x.' + 'a'.repeat(64) + '.example', 'a._b.example']) {
    assert.throws(() => normalName(bad), (e) => e instanceof DnsError && e.code === 'bad-input', bad);
  }
  assert.ok(inZone('www.shop.example', 'shop.example'));
  assert.ok(inZone('shop.example', 'shop.example'));
  assert.ok(!inZone('evilshop.example', 'shop.example'), 'a suffix is not a zone');
});

test('record values are checked per type before any provider is asked', () => {
  assert.deepEqual(checkValues('A', ['198.51.100.7']), ['198.51.100.7']);
  assert.throws(() => checkValues('A', ['198.51.100.256']), DnsError);
  assert.throws(() => checkValues('A', ['01.2.3.4x']), DnsError);
  assert.deepEqual(checkValues('CNAME', ['Edge.Example.']), ['edge.example']);
  assert.throws(() => checkValues('TXT', ['a\nb']), DnsError);
  assert.throws(() => checkValues('TXT', ['x'.repeat(256)]), DnsError);
});

test('the registry names every provider type once, and builds each', () => {
  assert.deepEqual([...DNS_PROVIDER_TYPES], ['rfc2136', 'cloudflare', 'dnspod', 'alidns']);
  assert.match(dnsProvider({ type: 'rfc2136', server: '127.0.0.1', zone: 'shop.example', keyName: 'k', secret: 'c2VjcmV0' }).describe, /^rfc2136 shop\.example at 127\.0\.0\.1:53$/);
  assert.match(dnsProvider({ type: 'cloudflare', token: 't', zone: 'shop.example' }).describe, /^cloudflare shop\.example$/);
  assert.match(dnsProvider({ type: 'dnspod', secretId: 'i', secretKey: 'k', zone: 'Shop.Example.' }).describe, /^dnspod shop\.example$/);
  assert.match(dnsProvider({ type: 'alidns', accessKeyId: 'i', accessKeySecret: 'k', zone: 'shop.example' }).describe, /^alidns shop\.example$/);
  assert.throws(() => dnsProvider({ type: 'rfc2136', server: '127.0.0.1; rm -rf /', zone: 'shop.example', keyName: 'k', secret: 'c2VjcmV0' }), DnsError);
});
