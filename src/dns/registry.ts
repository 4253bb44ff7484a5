/** The one place DNS providers are named: a provider's settings → the provider. */
import { AlidnsProvider, type AlidnsConfig } from './alidns.ts';
import { CloudflareProvider, type CloudflareConfig } from './cloudflare.ts';
import { DnspodProvider, type DnspodConfig } from './dnspod.ts';
import type { DnsProvider } from './provider.ts';
import { Rfc2136Provider, type Rfc2136Config } from './rfc2136.ts';

export type DnsProviderConfig =
  | ({ type: 'rfc2136' } & Rfc2136Config)
  | ({ type: 'cloudflare' } & CloudflareConfig)
  | ({ type: 'dnspod' } & DnspodConfig)
  | ({ type: 'alidns' } & AlidnsConfig);

export const DNS_PROVIDER_TYPES = ['rfc2136', 'cloudflare', 'dnspod', 'alidns'] as const satisfies ReadonlyArray<DnsProviderConfig['type']>;

export function dnsProvider(config: DnsProviderConfig): DnsProvider {
  switch (config.type) {
    case 'rfc2136': return new Rfc2136Provider(config);
    case 'cloudflare': return new CloudflareProvider(config);
    case 'dnspod': return new DnspodProvider(config);
    case 'alidns': return new AlidnsProvider(config);
  }
}
