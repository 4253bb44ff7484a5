/**
 * Alibaba Cloud DNS, through its OpenAPI as documented (help.aliyun.com, Alidns 2015-01-09:
 * DescribeSubDomainRecords, AddDomainRecord, DeleteDomainRecord; RPC style, parameters in the
 * query string), signed with ACS3-HMAC-SHA256 (signing.ts). Tested against a local server
 * speaking that documented subset (test/dns/alidns.test.ts), not against Alibaba Cloud itself.
 * Its free edition refuses TTLs under 600 s.
 */
import { randomBytes } from 'node:crypto';
import { DnsError, type RecordType } from './provider.ts';
import { callApi, RecordApiProvider, recordValue, type ApiRecord } from './record-api.ts';
import { acs3Headers, acsQuery } from './signing.ts';

export interface AlidnsConfig {
  accessKeyId: string;
  accessKeySecret: string;
  zone: string;
  /** Default https://alidns.aliyuncs.com (tests point it at a local server). */
  endpoint?: string;
  timeoutMs?: number;
}

export const ALIDNS_ENDPOINT = 'https://alidns.aliyuncs.com';
const VERSION = '2015-01-09';

interface AlidnsRecord {
  RecordId: string;
  RR: string;
  Type: string;
  Value: string;
  TTL: number;
}

interface AlidnsAnswer {
  Code?: string;
  Message?: string;
  DomainRecords?: { Record?: AlidnsRecord[] };
}

/** Error codes of a key that is unknown, disabled, signs wrongly or may not touch DNS. */
const REFUSED = /^(InvalidAccessKeyId|SignatureDoesNotMatch|IncompleteSignature|Forbidden|InvalidAccessKeySecret)/;

export class AlidnsProvider extends RecordApiProvider {
  private readonly endpoint: string;
  private readonly host: string;

  constructor(private readonly config: AlidnsConfig) {
    super(config.zone, 'alidns');
    this.endpoint = (config.endpoint ?? ALIDNS_ENDPOINT).replace(/\/$/, '');
    this.host = new URL(this.endpoint).host;
  }

  private async call(action: string, params: Record<string, string>): Promise<AlidnsAnswer> {
    const headers = acs3Headers({
      accessKeyId: this.config.accessKeyId, accessKeySecret: this.config.accessKeySecret, method: 'POST', host: this.host,
      action, version: VERSION, query: params, body: '',
      date: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'), nonce: randomBytes(16).toString('hex'),
    });
    // fetch sets Host from the URL: the one signed.
    const { host: _host, ...sent } = headers;
    const { status, body } = await callApi(this.describe, `${this.endpoint}/?${acsQuery(params)}`, { method: 'POST', headers: sent }, this.config.timeoutMs ?? 15_000);
    const answer = (body ?? {}) as AlidnsAnswer;
    if (status >= 200 && status < 300 && !answer.Code) return answer;
    const said = `${answer.Code ?? `HTTP ${status}`}: ${answer.Message ?? ''}`;
    if (REFUSED.test(answer.Code ?? '') || status === 401 || status === 403) throw new DnsError('refused', `${this.describe}: the AccessKey was not accepted (${said})`);
    if (/^InvalidDomainName/.test(answer.Code ?? '')) throw new DnsError('no-zone', `${this.describe}: the AccessKey sees no domain ${this.zone} (${said})`);
    throw new DnsError('failed', `${this.describe}: ${action} failed: ${said}`);
  }

  protected async list(n: string, type: RecordType): Promise<ApiRecord[]> {
    const r = await this.call('DescribeSubDomainRecords', { SubDomain: n, DomainName: this.zone, Type: type, PageSize: '500' });
    return (r.DomainRecords?.Record ?? [])
      .filter((x) => x.Type === type && x.RR === this.relative(n))
      .map((x) => ({ id: x.RecordId, value: recordValue(type, x.Value), ttl: x.TTL }));
  }

  protected async create(n: string, type: RecordType, value: string, ttl: number): Promise<void> {
    await this.call('AddDomainRecord', { DomainName: this.zone, RR: this.relative(n), Type: type, Value: value, TTL: String(ttl) });
  }

  protected async delete(record: ApiRecord): Promise<void> {
    await this.call('DeleteDomainRecord', { RecordId: record.id });
  }
}
