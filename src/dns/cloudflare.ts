/**
 * Cloudflare's DNS, through its v4 API as documented (developers.cloudflare.com/api:
 * "List Zones", "List DNS Records", "Create DNS Record", "Delete DNS Record"), with an API
 * token (Bearer) that may edit the zone's DNS. Tested against a local server speaking that
 * documented subset (test/dns/cloudflare.test.ts), not against Cloudflare itself.
 */
import { checkTtl, checkValues, DnsError, inZone, normalName, type DnsProvider, type RecordSet, type RecordType } from './provider.ts';

export interface CloudflareConfig {
  token: string;
  zone: string;
  /** Default https://api.cloudflare.com/client/v4 (tests point it at a local server). */
  apiBase?: string;
  timeoutMs?: number;
}

interface ApiRecord {
  id: string;
  type: string;
  name: string;
  content: string;
  ttl: number;
}

interface Envelope<T> {
  success: boolean;
  errors?: Array<{ code?: number; message?: string }>;
  result: T;
}

export const CLOUDFLARE_API = 'https://api.cloudflare.com/client/v4';

export class CloudflareProvider implements DnsProvider {
  readonly describe: string;
  private readonly zone: string;
  private readonly base: string;
  private zoneId: Promise<string> | undefined;

  constructor(private readonly config: CloudflareConfig) {
    this.zone = normalName(config.zone);
    this.base = (config.apiBase ?? CLOUDFLARE_API).replace(/\/$/, '');
    this.describe = `cloudflare ${this.zone}`;
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.base}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.config.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.config.timeoutMs ?? 15_000),
      });
    } catch (error) {
      throw new DnsError('unreachable', `${this.describe}: the API did not answer (${(error as Error).message})`);
    }
    let parsed: Envelope<T> | undefined;
    try {
      parsed = (await response.json()) as Envelope<T>;
    } catch {
      parsed = undefined;
    }
    const said = parsed?.errors?.map((e) => `${e.code ?? ''} ${e.message ?? ''}`.trim()).join('; ') || `HTTP ${response.status}`;
    if (response.status === 401 || response.status === 403) throw new DnsError('refused', `${this.describe}: the API token was not accepted (${said})`);
    if (!response.ok || !parsed?.success) throw new DnsError('failed', `${this.describe}: ${method} ${path.split('?')[0]} failed: ${said}`);
    return parsed.result;
  }

  private id(): Promise<string> {
    this.zoneId ??= this.call<Array<{ id: string; name: string }>>('GET', `/zones?name=${encodeURIComponent(this.zone)}`).then((zones) => {
      const z = zones.find((x) => x.name === this.zone);
      if (!z) throw new DnsError('no-zone', `${this.describe}: the token sees no zone named ${this.zone}`);
      return z.id;
    });
    // A failed look-up is tried again next time, not remembered.
    this.zoneId.catch(() => { this.zoneId = undefined; });
    return this.zoneId;
  }

  private own(name: string): string {
    const n = normalName(name);
    if (!inZone(n, this.zone)) throw new DnsError('no-zone', `${n} is not in zone ${this.zone} (${this.describe})`);
    return n;
  }

  private async records(n: string, type: RecordType): Promise<ApiRecord[]> {
    const zone = await this.id();
    const found = await this.call<ApiRecord[]>('GET', `/zones/${zone}/dns_records?type=${type}&name=${encodeURIComponent(n)}&per_page=100`);
    return found.filter((r) => r.type === type && normalName(r.name) === n);
  }

  /** TXT contents may come back quoted. */
  private static value(type: RecordType, content: string): string {
    return type === 'TXT' ? content.replace(/^"|"$/g, '') : type === 'CNAME' ? normalName(content) : content;
  }

  async get(name: string, type: RecordType): Promise<RecordSet> {
    const n = this.own(name);
    const found = await this.records(n, type);
    return { name: n, type, values: found.map((r) => CloudflareProvider.value(type, r.content)).sort(), ttl: found[0]?.ttl ?? 0 };
  }

  async set(name: string, type: RecordType, values: readonly string[], ttl: number): Promise<void> {
    const n = this.own(name);
    const want = checkValues(type, values);
    checkTtl(ttl);
    const zone = await this.id();
    const have = await this.records(n, type);
    // What stays (same value and TTL) stays; the rest goes, and what is missing comes.
    const keep = have.filter((r) => want.includes(CloudflareProvider.value(type, r.content)) && r.ttl === ttl);
    for (const r of have.filter((x) => !keep.includes(x))) await this.call('DELETE', `/zones/${zone}/dns_records/${r.id}`);
    for (const v of want.filter((x) => !keep.some((r) => CloudflareProvider.value(type, r.content) === x))) {
      await this.call('POST', `/zones/${zone}/dns_records`, { type, name: n, content: v, ttl });
    }
    const now = await this.get(n, type);
    if (JSON.stringify(now.values) !== JSON.stringify([...want].sort())) throw new DnsError('failed', `${this.describe}: after the change ${n} ${type} holds ${now.values.join(', ') || 'nothing'}, not ${want.join(', ')}`);
  }

  async remove(name: string, type: RecordType): Promise<void> {
    const n = this.own(name);
    const zone = await this.id();
    for (const r of await this.records(n, type)) await this.call('DELETE', `/zones/${zone}/dns_records/${r.id}`);
    if ((await this.records(n, type)).length) throw new DnsError('failed', `${this.describe}: ${n} ${type} is still there after its removal`);
  }
}
