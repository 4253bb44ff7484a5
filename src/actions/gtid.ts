/**
 * MariaDB GTID positions: `domain-server-seq` per replication domain, comma separated
 * (`0-1-42,1-3-7`). Positions are compared per domain by sequence number; the server id
 * only says who wrote the last event.
 */

export interface GtidEntry {
  domain: number;
  server: number;
  seq: bigint;
}

export class GtidError extends Error {
  override name = 'GtidError';
  constructor(readonly code: 'bad-gtid', message: string) {
    super(message);
  }
}

/** Every GTID of a comma-separated list, in its order; anything else is refused. */
export function gtidEntries(text: string | null | undefined): GtidEntry[] {
  return (text ?? '').split(',').map((p) => p.trim()).filter(Boolean).map((part) => {
    const match = /^(\d+)-(\d+)-(\d+)$/.exec(part);
    if (!match) throw new GtidError('bad-gtid', `not a MariaDB GTID: ${JSON.stringify(part)}`);
    return { domain: Number(match[1]), server: Number(match[2]), seq: BigInt(match[3]!) };
  });
}

export function parseGtidList(text: string | null | undefined): Map<number, GtidEntry> {
  const positions = new Map<number, GtidEntry>();
  for (const entry of gtidEntries(text)) {
    const seen = positions.get(entry.domain);
    if (!seen || seen.seq < entry.seq) positions.set(entry.domain, entry);
  }
  return positions;
}

/** True when `have` reached `want` in every domain `want` names. */
export function gtidCovers(have: string | null | undefined, want: string | null | undefined): boolean {
  const reached = parseGtidList(have);
  for (const entry of parseGtidList(want).values()) {
    const got = reached.get(entry.domain);
    if (!got || got.seq < entry.seq) return false;
  }
  return true;
}

/** How many transactions `have` is behind `want`, summed over domains (for RPO reports). */
export function gtidGap(have: string | null | undefined, want: string | null | undefined): bigint {
  const reached = parseGtidList(have);
  let gap = 0n;
  for (const entry of parseGtidList(want).values()) {
    const got = reached.get(entry.domain)?.seq ?? 0n;
    if (got < entry.seq) gap += entry.seq - got;
  }
  return gap;
}
