/**
 * Where a domain's records live: the one interface every DNS provider implements (RFC 2136
 * dynamic updates, Cloudflare, …; registry.ts names them), used to point a domain at another
 * machine and to publish ACME DNS-01 challenges. A provider changes one record set at a time
 * (name + type) and says what is there; `set` replaces the whole set, so a retry after a cut
 * connection does the same again, never a second copy.
 */

export const RECORD_TYPES = ['A', 'AAAA', 'TXT', 'CNAME'] as const;
export type RecordType = (typeof RECORD_TYPES)[number];

export interface RecordSet {
  /** Fully qualified, lower case, no trailing dot: `shop.example.com`. */
  name: string;
  type: RecordType;
  /** A/AAAA: addresses; TXT: the text (unquoted); CNAME: the target name. */
  values: string[];
  ttl: number;
}

export interface DnsProvider {
  /** The provider's kind (`rfc2136`, `cloudflare`) and what it manages, for messages. */
  readonly describe: string;
  /** The record set of `name`/`type`; empty values when there is none. */
  get(name: string, type: RecordType): Promise<RecordSet>;
  /** Makes `name`/`type` hold exactly `values` with `ttl` (created, replaced). */
  set(name: string, type: RecordType, values: readonly string[], ttl: number): Promise<void>;
  /** Removes the record set; nothing to remove is not an error. */
  remove(name: string, type: RecordType): Promise<void>;
}

export class DnsError extends Error {
  override name = 'DnsError';
  constructor(
    /** refused: the credentials were not accepted; unreachable: no answer; no-zone: the name is in no zone it manages; bad-input; failed: anything else the provider said. */
    readonly code: 'refused' | 'unreachable' | 'no-zone' | 'bad-input' | 'failed',
    message: string,
  ) {
    super(message);
  }
}

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** `_acme-challenge` and the like are names too (first label only). */
const LABEL_OR_SERVICE = /^_?[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** A name as providers take it: lower case, no trailing dot; refused when it is not a host name. */
export function normalName(name: string): string {
  const n = name.trim().toLowerCase().replace(/\.$/, '');
  const labels = n.split('.');
  if (n.length > 253 || labels.length < 2 || !labels.every((l, i) => (i === 0 ? LABEL_OR_SERVICE : LABEL).test(l))) {
    throw new DnsError('bad-input', `${JSON.stringify(name)} is not a DNS name`);
  }
  return n;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** Values as the record type allows them; refused otherwise (nothing reaches the provider). */
export function checkValues(type: RecordType, values: readonly string[]): string[] {
  return values.map((v) => {
    if (type === 'A' && !IPV4.test(v)) throw new DnsError('bad-input', `${JSON.stringify(v)} is not an IPv4 address`);
    if (type === 'AAAA' && !/^[0-9a-f:]+$/i.test(v)) throw new DnsError('bad-input', `${JSON.stringify(v)} is not an IPv6 address`);
    if (type === 'TXT' && (v.length > 255 || /["\\\n\r]/.test(v))) throw new DnsError('bad-input', 'a TXT value here is at most 255 characters, without quotes, backslashes or line breaks');
    if (type === 'CNAME') return normalName(v);
    return v;
  });
}

export function checkTtl(ttl: number): number {
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > 86_400) throw new DnsError('bad-input', `TTL ${ttl}: expected whole seconds in [1, 86400]`);
  return ttl;
}

/** Whether `name` is `zone` or below it. */
export function inZone(name: string, zone: string): boolean {
  return name === zone || name.endsWith(`.${zone}`);
}
