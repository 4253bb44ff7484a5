/**
 * Blocked, not dead: the verdicts that compare what the users' side sees with what the fleet
 * sees from inside. A machine every inside vantage point judges alive but that no users'-side
 * probe reaches on any port is `ip-blocked`; one port silent from the users while another
 * answers is `port-blocked`; a domain whose users' answer differs from the authoritative one
 * (or fails while the machine's address works) is `domain-blocked`. None of them is ever a
 * reason to fail a machine over: the machine is fine, the path to it is not.
 *
 * Quorum: every verdict needs a majority of the fresh users'-side reports (one probe alone
 * may decide only when it is the only one there is, and the daemon says so in the evidence).
 * Pure: the daemon feeds it reports and its own views; tests feed it tables.
 */

/** What one TCP connect saw. `silent`: no answer before the time-out (dropped on the way). */
export type PortSeen = 'open' | 'refused' | 'silent' | 'unreachable' | 'error';

export interface PortView {
  machine: string;
  address: string;
  port: number;
  seen: PortSeen;
}

export interface NameView {
  domain: string;
  /** The addresses the resolver returned, sorted; absent when it failed. */
  addresses?: string[];
  error?: string;
}

/** One users'-side probe's round, as pushed to the daemon. */
export interface UsersSideReport {
  probe: string;
  /** When the daemon received it (ms since the epoch). */
  receivedAt: number;
  ports: PortView[];
  names: NameView[];
}

export interface InsideView {
  /** Machines the failure verdict judges alive from inside the fleet. */
  alive: ReadonlySet<string>;
  /** The daemon's own connects to the same ports. */
  ports: readonly PortView[];
  /** Authoritative answers: what the fleet's domains should resolve to. */
  names: ReadonlyMap<string, readonly string[]>;
}

export const BLOCK_KINDS = ['ip-blocked', 'port-blocked', 'domain-blocked'] as const;
export type BlockKind = (typeof BLOCK_KINDS)[number];

export interface EvidenceRow {
  vantage: string;
  check: string;
  seen: string;
}

export interface BlockVerdict {
  kind: BlockKind;
  /** `machine`, `machine:port` or the domain: one key per thing blocked. */
  target: string;
  machine?: string;
  port?: number;
  domain?: string;
  reason: string;
  evidence: EvidenceRow[];
}

const NOT_THROUGH = new Set<PortSeen>(['silent', 'unreachable']);
const majorityOf = (n: number) => Math.floor(n / 2) + 1;

export function blockVerdicts(reports: readonly UsersSideReport[], inside: InsideView): BlockVerdict[] {
  if (reports.length === 0) return [];
  const need = majorityOf(reports.length);
  const verdicts: BlockVerdict[] = [];
  const insideRows = (machine: string): EvidenceRow[] => [
    { vantage: 'inside', check: 'failure verdict', seen: inside.alive.has(machine) ? 'alive' : 'not alive' },
    ...inside.ports.filter((p) => p.machine === machine).map((p) => ({ vantage: 'daemon', check: `tcp/${p.port}`, seen: p.seen })),
  ];
  const usersRows = (pick: (p: PortView) => boolean): EvidenceRow[] =>
    reports.flatMap((r) => r.ports.filter(pick).map((p) => ({ vantage: `users:${r.probe}`, check: `tcp ${p.address}:${p.port}`, seen: p.seen })));

  const machines = [...new Set(reports.flatMap((r) => r.ports.map((p) => p.machine)))].sort();
  /** Machines the users reach on at least one port, by a majority of the reports. */
  const reachable = new Set<string>();
  for (const machine of machines) {
    if (!inside.alive.has(machine)) continue; // dead or unknown: the failure verdict speaks for it
    const seenBy = reports.map((r) => r.ports.filter((p) => p.machine === machine));
    const through = seenBy.filter((ports) => ports.some((p) => p.seen === 'open' || p.seen === 'refused')).length;
    if (through >= need) reachable.add(machine);
    const cut = seenBy.filter((ports) => ports.length > 0 && ports.every((p) => NOT_THROUGH.has(p.seen))).length;
    if (cut >= need) {
      verdicts.push({
        kind: 'ip-blocked', target: machine, machine,
        reason: `${machine} is alive from inside the fleet, but ${cut} of ${reports.length} users'-side probes reach none of its ports`,
        evidence: [...insideRows(machine), ...usersRows((p) => p.machine === machine)],
      });
      continue;
    }
    if (!reachable.has(machine)) continue;
    const ports = [...new Set(seenBy.flat().map((p) => p.port))].sort((a, b) => a - b);
    for (const port of ports) {
      // A port refused from inside is a service that is down, not a block.
      if (inside.ports.some((p) => p.machine === machine && p.port === port && p.seen === 'refused')) continue;
      const silent = seenBy.filter((mine) => mine.some((p) => p.port === port && NOT_THROUGH.has(p.seen)) && mine.some((p) => p.port !== port && p.seen === 'open')).length;
      if (silent < need) continue;
      verdicts.push({
        kind: 'port-blocked', target: `${machine}:${port}`, machine, port,
        reason: `port ${port} of ${machine} does not answer ${silent} of ${reports.length} users'-side probes, while its other ports do`,
        evidence: [...insideRows(machine).filter((row) => row.check === 'failure verdict' || row.check === `tcp/${port}`), ...usersRows((p) => p.machine === machine)],
      });
    }
  }

  const domains = [...new Set(reports.flatMap((r) => r.names.map((n) => n.domain)))].sort();
  for (const domain of domains) {
    const truth = inside.names.get(domain);
    if (!truth || truth.length === 0) continue; // no authoritative answer: nothing to compare with
    const answers = reports.flatMap((r) => r.names.filter((n) => n.domain === domain).map((n) => ({ probe: r.probe, ...n })));
    const rows: EvidenceRow[] = [
      { vantage: 'authoritative', check: `resolve ${domain}`, seen: truth.join(' ') },
      ...answers.map((a) => ({ vantage: `users:${a.probe}`, check: `resolve ${domain}`, seen: a.addresses ? a.addresses.join(' ') || '(no address)' : `failed: ${a.error ?? 'no answer'}` })),
    ];
    const wrong = answers.filter((a) => a.addresses && (a.addresses.length === 0 || a.addresses.some((x) => !truth.includes(x))));
    if (wrong.length >= need) {
      verdicts.push({ kind: 'domain-blocked', target: domain, domain, reason: `the users' resolver answers ${domain} with ${wrong[0]!.addresses!.join(' ') || 'nothing'}, the authoritative answer is ${truth.join(' ')}`, evidence: rows });
      continue;
    }
    // The name fails while the addresses behind it answer the same users: the name is blocked.
    const failed = answers.filter((a) => !a.addresses).length;
    const servers = machines.filter((m) => reports.some((r) => r.ports.some((p) => p.machine === m && truth.includes(p.address))));
    if (failed >= need && servers.some((m) => reachable.has(m))) {
      verdicts.push({ kind: 'domain-blocked', target: domain, domain, reason: `${domain} does not resolve for the users while its address answers them`, evidence: rows });
    }
  }
  return verdicts;
}
