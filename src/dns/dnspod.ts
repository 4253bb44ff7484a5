/**
 * DNSPod, through Tencent Cloud API 3.0 as documented (cloud.tencent.com/document/api/1427:
 * DescribeRecordList, CreateRecord, DeleteRecord, version 2021-03-23), signed with
 * TC3-HMAC-SHA256 (signing.ts). Tested against a local server speaking that documented
 * subset (test/dns/dnspod.test.ts), not against DNSPod itself.
 */
import { DnsError, type RecordType } from './provider.ts';
import { callApi, RecordApiProvider, recordValue, type ApiRecord } from './record-api.ts';
import { tc3Authorization } from './signing.ts';

export interface DnspodConfig {
  secretId: string;
  secretKey: string;
  /** The domain as DNSPod holds it: `shop.example`. */
  zone: string;
  /** Default https://dnspod.tencentcloudapi.com (tests point it at a local server). */
  endpoint?: string;
  timeoutMs?: number;
}

export const DNSPOD_ENDPOINT = 'https://dnspod.tencentcloudapi.com';
const VERSION = '2021-03-23';
/** DNSPod's default line, the one every resolver is given when no other line matches. */
const DEFAULT_LINE = '默认';

interface TencentResponse {
  Response?: { Error?: { Code?: string; Message?: string }; RequestId?: string; RecordList?: DnspodRecord[] };
}

interface DnspodRecord {
  RecordId: number;
  Name: string;
  Type: string;
  Value: string;
  TTL: number;
}

export class DnspodProvider extends RecordApiProvider {
  private readonly endpoint: string;
  private readonly host: string;

  constructor(private readonly config: DnspodConfig) {
    super(config.zone, 'dnspod');
    this.endpoint = (config.endpoint ?? DNSPOD_ENDPOINT).replace(/\/$/, '');
    this.host = new URL(this.endpoint).host;
  }

  /** One API call; the `Response.Error` of the answer becomes a DnsError unless `quiet` names its code. */
  private async call(action: string, params: Record<string, unknown>, quiet: readonly string[] = []): Promise<TencentResponse['Response']> {
    const payload = JSON.stringify(params);
    const timestamp = Math.floor(Date.now() / 1000);
    const { status, body } = await callApi(this.describe, `${this.endpoint}/`, {
      method: 'POST',
      headers: {
        authorization: tc3Authorization({ secretId: this.config.secretId, secretKey: this.config.secretKey, service: 'dnspod', host: this.host, payload, timestamp }),
        'content-type': 'application/json; charset=utf-8',
        'x-tc-action': action,
        'x-tc-timestamp': String(timestamp),
        'x-tc-version': VERSION,
      },
      body: payload,
    }, this.config.timeoutMs ?? 15_000);
    const response = (body as TencentResponse | undefined)?.Response;
    if (!response) throw new DnsError('failed', `${this.describe}: ${action} answered HTTP ${status} without a Response`);
    const error = response.Error;
    if (!error || quiet.includes(error.Code ?? '')) return response;
    const said = `${error.Code ?? '?'}: ${error.Message ?? ''}`;
    if ((error.Code ?? '').startsWith('AuthFailure')) throw new DnsError('refused', `${this.describe}: the API key was not accepted (${said})`);
    if (/DomainNotExists|NoDataOfDomain/.test(error.Code ?? '')) throw new DnsError('no-zone', `${this.describe}: the key sees no domain ${this.zone} (${said})`);
    throw new DnsError('failed', `${this.describe}: ${action} failed: ${said}`);
  }

  protected async list(n: string, type: RecordType): Promise<ApiRecord[]> {
    // An empty answer is an error code of its own in this API: "no records" is not a failure.
    const r = await this.call('DescribeRecordList', { Domain: this.zone, Subdomain: this.relative(n), RecordType: type, Limit: 3000 }, ['ResourceNotFound.NoDataOfRecord']);
    return (r?.RecordList ?? [])
      .filter((x) => x.Type === type && x.Name === this.relative(n))
      .map((x) => ({ id: String(x.RecordId), value: recordValue(type, x.Value), ttl: x.TTL }));
  }

  protected async create(n: string, type: RecordType, value: string, ttl: number): Promise<void> {
    await this.call('CreateRecord', { Domain: this.zone, SubDomain: this.relative(n), RecordType: type, RecordLine: DEFAULT_LINE, Value: value, TTL: ttl });
  }

  protected async delete(record: ApiRecord): Promise<void> {
    await this.call('DeleteRecord', { Domain: this.zone, RecordId: Number(record.id) });
  }
}
