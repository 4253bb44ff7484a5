/**
 * GoFrame's database link: `mysql:user:pass@tcp(host:port)/db?params` (the `mysql:` type
 * prefix is optional in older GoFrame versions). Only the address inside `tcp(...)` is ever
 * rewritten; the rest is kept byte for byte so credentials and parameters survive untouched.
 */

export interface GoframeDsn {
  host: string;
  port: number;
  /** Offsets of `host:port` inside the link, for a surgical replacement. */
  addressStart: number;
  addressEnd: number;
}

// The credentials may contain almost anything, so the address is found from the right:
// the last `@tcp(...)` that is followed by `/` (the start of the database name).
const ADDRESS = /@tcp\(([^()]*)\)\//g;

export function parseGoframeDsn(link: string): GoframeDsn | undefined {
  let last: RegExpExecArray | undefined;
  for (const match of link.matchAll(ADDRESS)) last = match as RegExpExecArray;
  if (!last) return undefined;
  const address = parseHostPort(last[1]!);
  if (!address) return undefined;
  const addressStart = last.index + '@tcp('.length;
  return { ...address, addressStart, addressEnd: addressStart + last[1]!.length };
}

export function withGoframeAddress(link: string, host: string, port: number): string | undefined {
  const dsn = parseGoframeDsn(link);
  if (!dsn) return undefined;
  return link.slice(0, dsn.addressStart) + joinHostPort(host, port) + link.slice(dsn.addressEnd);
}

export function parseHostPort(text: string): { host: string; port: number } | undefined {
  const match = /^\[?([^\]\s]*?)\]?:(\d{1,5})$/.exec(text.trim());
  if (!match || match[1] === '') return undefined;
  const port = Number(match[2]);
  if (port < 1 || port > 65535) return undefined;
  return { host: match[1]!, port };
}

export function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
