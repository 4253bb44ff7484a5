/**
 * What the HTTP DNS APIs (Cloudflare, DNSPod, Alibaba Cloud DNS) have in common: records
 * one by one, each with an id, listed, created and deleted. A record set is made of them the
 * same way for all: what already matches stays, the rest is deleted, what is missing is
 * created, and the set is read back before `set` returns.
 */
import { checkTtl, checkValues, DnsError, inZone, normalName, type DnsProvider, type RecordSet, type RecordType } from './provider.ts';

/** One record as the API lists it; `value` already in lifeboat's form (unquoted TXT, CNAME without its dot). */
export interface ApiRecord {
  id: string;
  value: string;
  ttl: number;
}

export abstract class RecordApiProvider implements DnsProvider {
  protected readonly zone: string;
  readonly describe: string;

  /** `kind` names the provider in messages: `cloudflare shop.example`. */
  constructor(zone: string, kind: string) {
    this.zone = normalName(zone);
    this.describe = `${kind} ${this.zone}`;
  }

  /** The records of exactly `name`/`type` (a fully qualified, normalised name in the zone). */
  protected abstract list(name: string, type: RecordType): Promise<ApiRecord[]>;
  protected abstract create(name: string, type: RecordType, value: string, ttl: number): Promise<void>;
  protected abstract delete(record: ApiRecord): Promise<void>;

  protected own(name: string): string {
    const n = normalName(name);
    if (!inZone(n, this.zone)) throw new DnsError('no-zone', `${n} is not in zone ${this.zone} (${this.describe})`);
    return n;
  }

  /** The name relative to the zone, as DNSPod and Alibaba take it: `www`, `@` for the zone itself. */
  protected relative(name: string): string {
    return name === this.zone ? '@' : name.slice(0, -(this.zone.length + 1));
  }

  async get(name: string, type: RecordType): Promise<RecordSet> {
    const n = this.own(name);
    const found = await this.list(n, type);
    return { name: n, type, values: found.map((r) => r.value).sort(), ttl: found[0]?.ttl ?? 0 };
  }

  async set(name: string, type: RecordType, values: readonly string[], ttl: number): Promise<void> {
    const n = this.own(name);
    const want = checkValues(type, values);
    checkTtl(ttl);
    const have = await this.list(n, type);
    const keep = have.filter((r) => want.includes(r.value) && r.ttl === ttl);
    for (const r of have.filter((x) => !keep.includes(x))) await this.delete(r);
    for (const v of want.filter((x) => !keep.some((r) => r.value === x))) await this.create(n, type, v, ttl);
    const now = await this.get(n, type);
    if (JSON.stringify(now.values) !== JSON.stringify([...want].sort())) throw new DnsError('failed', `${this.describe}: after the change ${n} ${type} holds ${now.values.join(', ') || 'nothing'}, not ${want.join(', ')}`);
  }

  async remove(name: string, type: RecordType): Promise<void> {
    const n = this.own(name);
    for (const r of await this.list(n, type)) await this.delete(r);
    if ((await this.list(n, type)).length) throw new DnsError('failed', `${this.describe}: ${n} ${type} is still there after its removal`);
  }
}

/** A record's value as lifeboat compares it: TXT unquoted, a CNAME target normalised. */
export function recordValue(type: RecordType, value: string): string {
  return type === 'TXT' ? value.replace(/^"|"$/g, '') : type === 'CNAME' ? normalName(value) : value;
}

/** fetch with a deadline; no answer at all is `unreachable`, never "no records". */
export async function callApi(describe: string, url: string, init: RequestInit, timeoutMs: number): Promise<{ status: number; body: unknown }> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    throw new DnsError('unreachable', `${describe}: the API did not answer (${(error as Error).message})`);
  }
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  return { status: response.status, body };
}
