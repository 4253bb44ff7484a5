/** The one place DNS providers are named: a provider's settings → the provider. */
import { CloudflareProvider, type CloudflareConfig } from './cloudflare.ts';
import type { DnsProvider } from './provider.ts';
import { Rfc2136Provider, type Rfc2136Config } from './rfc2136.ts';

export type DnsProviderConfig = ({ type: 'rfc2136' } & Rfc2136Config) | ({ type: 'cloudflare' } & CloudflareConfig);

export const DNS_PROVIDER_TYPES = ['rfc2136', 'cloudflare'] as const satisfies ReadonlyArray<DnsProviderConfig['type']>;

export function dnsProvider(config: DnsProviderConfig): DnsProvider {
  switch (config.type) {
    case 'rfc2136': return new Rfc2136Provider(config);
    case 'cloudflare': return new CloudflareProvider(config);
  }
}
