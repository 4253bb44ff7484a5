/**
 * The fleet file's side of certificates: which domains need one (every domain a machine
 * serves and every spare domain, one certificate each, so that a domain moves alone), which
 * zone's provider publishes each one's challenge, and the ACME settings, secrets resolved.
 */
import { homedir } from 'node:os';
import { readFile } from 'node:fs/promises';
import { dnsProvider } from '../dns/registry.ts';
import { inZone, type DnsProvider } from '../dns/provider.ts';
import { ACME_DIRECTORIES, type DnsZone, type Fleet } from '../fleet/schema.ts';
import type { SecretResolver } from '../fleet/secrets.ts';
import { CertError, type AcmeSettings } from './acme.ts';

export interface FleetDomain {
  domain: string;
  /** The machine whose domain list names it, or `spare` for the pool. */
  holder: string;
}

/** Every domain the fleet file names, the machines' first, then the spare pool. */
export function fleetDomains(fleet: Fleet): FleetDomain[] {
  const seen = new Set<string>();
  const out: FleetDomain[] = [];
  for (const m of fleet.machines) for (const d of m.domains) if (!seen.has(d.toLowerCase())) { seen.add(d.toLowerCase()); out.push({ domain: d.toLowerCase(), holder: m.name }); }
  for (const d of fleet.spareDomains) if (!seen.has(d.toLowerCase())) { seen.add(d.toLowerCase()); out.push({ domain: d.toLowerCase(), holder: 'spare' }); }
  return out;
}

/** The zone holding `name`: the longest that does. */
export function zoneOf(fleet: Fleet, name: string): DnsZone | undefined {
  return (fleet.dns?.zones ?? []).filter((z) => inZone(name.toLowerCase(), z.zone.toLowerCase())).sort((a, b) => b.zone.length - a.zone.length)[0];
}

async function providerOf(zone: DnsZone, secret: SecretResolver): Promise<DnsProvider> {
  switch (zone.type) {
    case 'rfc2136': return dnsProvider({ type: 'rfc2136', zone: zone.zone, server: zone.server, port: zone.port, keyName: zone.keyName, algorithm: zone.algorithm, secret: await secret(zone.secret) });
    case 'cloudflare': return dnsProvider({ type: 'cloudflare', zone: zone.zone, token: await secret(zone.token) });
    case 'dnspod': return dnsProvider({ type: 'dnspod', zone: zone.zone, secretId: zone.secretId, secretKey: await secret(zone.secretKey) });
    case 'alidns': return dnsProvider({ type: 'alidns', zone: zone.zone, accessKeyId: zone.accessKeyId, accessKeySecret: await secret(zone.accessKeySecret) });
  }
}

export function directoryUrl(fleet: Fleet): string {
  const d = fleet.acme?.directory ?? 'letsencrypt-staging';
  return d in ACME_DIRECTORIES ? ACME_DIRECTORIES[d as keyof typeof ACME_DIRECTORIES] : d;
}

export function acmeDir(fleet: Fleet): string {
  const dir = fleet.acme?.dir ?? '~/.lifeboat/acme';
  return dir.startsWith('~/') ? `${homedir()}${dir.slice(1)}` : dir;
}

/** The ACME settings of the fleet; every domain's zone and provider are checked first. */
export async function fleetAcmeSettings(fleet: Fleet, secret: SecretResolver, domains: readonly string[], log?: (line: string) => void): Promise<AcmeSettings> {
  if (!fleet.acme) throw new CertError('bad-input', 'the fleet file has no `acme` section: certificates are not managed for it');
  const providers = new Map<string, DnsProvider>();
  for (const d of domains) {
    const zone = zoneOf(fleet, d);
    if (!zone) throw new CertError('bad-input', `${d}: no zone of the fleet file's dns.zones holds it, so its DNS-01 challenge cannot be published`);
    if (!providers.has(zone.zone)) providers.set(zone.zone, await providerOf(zone, secret));
  }
  const serverCa = fleet.acme.serverCa ? await readFile(fleet.acme.serverCa, 'utf8') : undefined;
  return {
    directoryUrl: directoryUrl(fleet),
    dir: acmeDir(fleet),
    ...(fleet.acme.email ? { email: fleet.acme.email } : {}),
    ...(serverCa ? { serverCa } : {}),
    dns: (name) => providers.get(zoneOf(fleet, name)!.zone)!,
    // A CA that does not answer is said within about 12 s (acme-client alone waits 75 s).
    retry: { attempts: 3, delayS: 2 },
    ...(log ? { log } : {}),
  };
}
