/**
 * Cloudflare's DNS, through its v4 API as documented (developers.cloudflare.com/api:
 * "List Zones", "List DNS Records", "Create DNS Record", "Delete DNS Record"), with an API
 * token (Bearer) that may edit the zone's DNS. Tested against a local server speaking that
 * documented subset (test/dns/cloudflare.test.ts), not against Cloudflare itself.
 */
import { DnsError, normalName, type RecordType } from './provider.ts';
import { callApi, RecordApiProvider, recordValue, type ApiRecord } from './record-api.ts';

export interface CloudflareConfig {
  token: string;
  zone: string;
  /** Default https://api.cloudflare.com/client/v4 (tests point it at a local server). */
  apiBase?: string;
  timeoutMs?: number;
}

interface CloudflareRecord {
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

export class CloudflareProvider extends RecordApiProvider {
  private readonly base: string;
  private zoneId: Promise<string> | undefined;

  constructor(private readonly config: CloudflareConfig) {
    super(config.zone, 'cloudflare');
    this.base = (config.apiBase ?? CLOUDFLARE_API).replace(/\/$/, '');
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const { status, body: parsed } = await callApi(this.describe, `${this.base}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.config.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }, this.config.timeoutMs ?? 15_000);
    const envelope = parsed as Envelope<T> | undefined;
    const said = envelope?.errors?.map((e) => `${e.code ?? ''} ${e.message ?? ''}`.trim()).join('; ') || `HTTP ${status}`;
    if (status === 401 || status === 403) throw new DnsError('refused', `${this.describe}: the API token was not accepted (${said})`);
    if (status < 200 || status > 299 || !envelope?.success) throw new DnsError('failed', `${this.describe}: ${method} ${path.split('?')[0]} failed: ${said}`);
    return envelope.result;
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

  protected async list(n: string, type: RecordType): Promise<ApiRecord[]> {
    const zone = await this.id();
    const found = await this.call<CloudflareRecord[]>('GET', `/zones/${zone}/dns_records?type=${type}&name=${encodeURIComponent(n)}&per_page=100`);
    // TXT contents come back quoted.
    return found.filter((r) => r.type === type && normalName(r.name) === n).map((r) => ({ id: r.id, value: recordValue(type, r.content), ttl: r.ttl }));
  }

  protected async create(n: string, type: RecordType, value: string, ttl: number): Promise<void> {
    await this.call('POST', `/zones/${await this.id()}/dns_records`, { type, name: n, content: value, ttl });
  }

  protected async delete(record: ApiRecord): Promise<void> {
    await this.call('DELETE', `/zones/${await this.id()}/dns_records/${record.id}`);
  }
}
