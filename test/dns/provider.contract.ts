/**
 * What every DNS provider must do, run against each one (rfc2136.test.ts, cloudflare.test.ts):
 * a set is read back exactly, replaced whole, removed; names outside the zone and bad values
 * are refused before anything is sent; wrong credentials are `refused`, a server that does
 * not answer is `unreachable`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DnsError, type DnsProvider } from '../../src/dns/provider.ts';

export interface ContractTarget {
  provider: DnsProvider;
  zone: string;
  /** The same provider with credentials the server does not accept. */
  wrongCredentials: DnsProvider;
  /** The same provider pointed at a server that does not answer. */
  unreachable: DnsProvider;
}

const isDns = (code: DnsError['code']) => (e: unknown) => e instanceof DnsError && e.code === code;

export function providerContract(name: string, target: () => ContractTarget): void {
  test(`${name}: a record set is created, read back exactly, replaced whole and removed`, async () => {
    const { provider, zone } = target();
    const host = `www.${zone}`;
    assert.deepEqual((await provider.get(host, 'A')).values, [], 'nothing there yet');
    await provider.set(host, 'A', ['198.51.100.7'], 60);
    assert.deepEqual(await provider.get(host, 'A'), { name: host, type: 'A', values: ['198.51.100.7'], ttl: 60 });
    await provider.set(host, 'A', ['203.0.113.9', '198.51.100.8'], 120);
    const replaced = await provider.get(host, 'A');
    assert.deepEqual([replaced.values, replaced.ttl], [['198.51.100.8', '203.0.113.9'], 120], 'the old value is gone');
    await provider.set(host, 'A', ['203.0.113.9', '198.51.100.8'], 120);
    assert.deepEqual((await provider.get(host, 'A')).values, ['198.51.100.8', '203.0.113.9'], 'the same set again changes nothing');
    await provider.remove(host, 'A');
    assert.deepEqual((await provider.get(host, 'A')).values, []);
    await provider.remove(host, 'A');
  });

  test(`${name}: an ACME challenge TXT record, and a CNAME`, async () => {
    const { provider, zone } = target();
    const challenge = `_acme-challenge.shop.${zone}`;
    await provider.set(challenge, 'TXT', ['gfj9Xq-Rpaj4sPlFsmlt-Nz9OEz0Pk_V1JDq9oE3hT0', 'second value'], 60);
    assert.deepEqual((await provider.get(challenge, 'TXT')).values, ['gfj9Xq-Rpaj4sPlFsmlt-Nz9OEz0Pk_V1JDq9oE3hT0', 'second value']);
    await provider.remove(challenge, 'TXT');
    await provider.set(`m.${zone}`, 'CNAME', [`www.${zone}`], 300);
    assert.deepEqual((await provider.get(`M.${zone}.`, 'CNAME')).values, [`www.${zone}`], 'names are compared in lower case, without the trailing dot');
    await provider.remove(`m.${zone}`, 'CNAME');
  });

  test(`${name}: names outside the zone and bad values are refused before anything is sent`, async () => {
    const { provider, zone } = target();
    await assert.rejects(provider.set('www.elsewhere.example', 'A', ['198.51.100.7'], 60), isDns('no-zone'));
    await assert.rejects(provider.set(`www.${zone}`, 'A', ['999.1.1.1'], 60), isDns('bad-input'));
    await assert.rejects(provider.set(`www.${zone}`, 'A', ['198.51.100.7'], 0), isDns('bad-input'));
    await assert.rejects(provider.set(`bad name.${zone}`, 'A', ['198.51.100.7'], 60), isDns('bad-input'));
    await assert.rejects(provider.set(`t.${zone}`, 'TXT', ['say "hi"'], 60), isDns('bad-input'));
    assert.deepEqual((await provider.get(`www.${zone}`, 'A')).values, []);
  });

  test(`${name}: credentials the server refuses are \`refused\`; a server that does not answer is \`unreachable\``, async () => {
    const { wrongCredentials, unreachable, zone, provider } = target();
    await assert.rejects(wrongCredentials.set(`www.${zone}`, 'A', ['198.51.100.7'], 60), isDns('refused'));
    assert.deepEqual((await provider.get(`www.${zone}`, 'A')).values, [], 'nothing changed');
    await assert.rejects(unreachable.get(`www.${zone}`, 'A'), isDns('unreachable'));
  });
}
