/**
 * Which transactions an old primary holds that the live primary lacks: the writes it
 * committed after its replica stopped receiving (semi-sync fell back to async, or it ran on
 * alone behind a partition). Setting such a server's gtid_slave_pos to its own
 * @@gtid_binlog_pos and pointing it at the live primary would hide them for ever, so a
 * rejoin names them first (and extracts them) before anything of the old server is replaced.
 *
 * Read from both servers' @@gtid_binlog_state (the last GTID of every domain and server pair,
 * with log_slave_updates on: what the live primary replicated from the old one is in its own
 * binlog) and the live primary's @@gtid_slave_pos (where its replication stopped, for a
 * server that logged no replicated events).
 */
import { gtidEntries, type GtidEntry } from './gtid.ts';

/** `d-s-n,…` with one entry per domain and server (a gtid_binlog_state); the highest kept. */
export function parseGtidState(text: string | null | undefined): GtidEntry[] {
  const entries = new Map<string, GtidEntry>();
  for (const e of gtidEntries(text)) {
    const key = `${e.domain}-${e.server}`;
    const seen = entries.get(key);
    if (!seen || seen.seq < e.seq) entries.set(key, e);
  }
  return [...entries.values()].sort((a, b) => a.domain - b.domain || a.server - b.server);
}

/** The old server's transactions of one domain that the live primary does not have: (after, upTo]. */
export interface OwnRange {
  domain: number;
  server: number;
  /** The last of these the live primary has (0 when it has none of that server). */
  after: bigint;
  upTo: bigint;
}

export type Divergence =
  | { kind: 'prefix'; detail: string }
  | { kind: 'extra'; ranges: OwnRange[]; count: bigint; detail: string }
  | { kind: 'unknown'; detail: string };

export interface DivergenceInput {
  /** The old primary's @@gtid_binlog_state and @@server_id. */
  oldState: string;
  oldServerId: number;
  /** The live primary's @@gtid_binlog_state and @@gtid_slave_pos. */
  liveState: string;
  liveSlavePos: string;
}

const gtid = (domain: number, server: number, seq: bigint) => `${domain}-${server}-${seq}`;

/**
 * Pure. Only what the old server wrote itself can be missing on the live primary (what it
 * replicated from others came from the live primary's own history); for each domain its last
 * own GTID is compared with the last of its GTIDs the live primary holds.
 */
export function divergence(input: DivergenceInput): Divergence {
  const old = parseGtidState(input.oldState).filter((e) => e.server === input.oldServerId);
  if (old.length === 0) return { kind: 'prefix', detail: `it holds no transaction of its own (server id ${input.oldServerId})` };
  const live = parseGtidState(input.liveState);
  const slavePos = parseGtidState(input.liveSlavePos);
  const ranges: OwnRange[] = [];
  const unknown: string[] = [];
  for (const o of old) {
    const known = live.find((e) => e.domain === o.domain && e.server === o.server)?.seq
      ?? slavePos.find((e) => e.domain === o.domain && e.server === o.server)?.seq;
    if (known === undefined) {
      // Not one of its writes in that domain is on the live primary: seeded from a dump or a
      // restore rather than replicated, there is no shared history to measure against.
      unknown.push(`the live primary holds none of its GTIDs of domain ${o.domain} (its last is ${gtid(o.domain, o.server, o.seq)})`);
      continue;
    }
    if (known < o.seq) ranges.push({ domain: o.domain, server: o.server, after: known, upTo: o.seq });
  }
  if (unknown.length) return { kind: 'unknown', detail: unknown.join('; ') };
  if (ranges.length === 0) return { kind: 'prefix', detail: `the live primary has every transaction it wrote (up to ${old.map((o) => gtid(o.domain, o.server, o.seq)).join(',')})` };
  const count = ranges.reduce((n, r) => n + (r.upTo - r.after), 0n);
  return {
    kind: 'extra', ranges, count,
    detail: `${count} transaction(s) of its own that the live primary lacks: ${ranges.map((r) => `${gtid(r.domain, r.server, r.after + 1n)}…${gtid(r.domain, r.server, r.upTo)}`).join(', ')}`,
  };
}

/**
 * mariadb-binlog's options that print exactly those ranges: from after each range's start, of
 * those domains, of that server only, with the row events also written out as SQL comments.
 */
export function extractionOptions(ranges: readonly OwnRange[]): string[] {
  if (ranges.length === 0) throw new TypeError('no range to extract');
  const servers = new Set(ranges.map((r) => r.server));
  if (servers.size !== 1) throw new TypeError('the ranges of one server are extracted at a time');
  return [
    '--verbose',
    `--start-position=${ranges.map((r) => gtid(r.domain, r.server, r.after)).join(',')}`,
    `--stop-position=${ranges.map((r) => gtid(r.domain, r.server, r.upTo)).join(',')}`,
    `--do-domain-ids=${ranges.map((r) => r.domain).join(',')}`,
    `--server-id=${ranges[0]!.server}`,
  ];
}

/** The GTIDs of the transactions mariadb-binlog printed (its `GTID d-s-n` event lines), in order. */
export function gtidsInExtract(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/^#\d{6}\s+\d{1,2}:\d\d:\d\d .*\bGTID (\d+-\d+-\d+)\b/gm)) out.push(m[1]!);
  return out;
}

/**
 * What is wrong with an extract that should hold exactly the ranges' transactions, or
 * undefined when it holds each of them once and nothing else (checked by count and bounds:
 * a range can be long).
 */
export function extractProblem(gtids: readonly string[], ranges: readonly OwnRange[]): string | undefined {
  const seen = new Set<string>();
  for (const g of gtids) {
    const [domain, server, seq] = g.split('-').map((x) => BigInt(x));
    const r = ranges.find((x) => BigInt(x.domain) === domain && BigInt(x.server) === server);
    if (!r || seq! <= r.after || seq! > r.upTo) return `it holds ${g}, which is not one of the old server's own transactions to extract`;
    if (seen.has(g)) return `it holds ${g} twice`;
    seen.add(g);
  }
  const want = ranges.reduce((n, r) => n + (r.upTo - r.after), 0n);
  if (BigInt(seen.size) !== want) return `it holds ${seen.size} of the ${want} transaction(s) to extract`;
  return undefined;
}
