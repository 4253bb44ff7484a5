/**
 * Conditions: what is wrong on machines that are alive — a service down, a database that does
 * not answer, replication broken or fallen back to async, a backup store whose newest copy is
 * old, a certificate about to expire, a disk nearly full. The daemon reads them every
 * `watch.health.intervalS` and alerts; none of them moves a machine (that takes a `dead`
 * verdict). A reading that failed is not a condition: it is reported as such (`unreadable`),
 * never as "fine" and never as "down". Pure: the daemon reads, this decides.
 */
import type { FleetStatus } from './fleet-status.ts';
import type { EvidenceRow } from './reachability.ts';

export const CONDITION_KINDS = ['service-down', 'db-down', 'replication-broken', 'replication-at-risk', 'backup-stale', 'binlog-behind', 'cert-expiring', 'disk-full'] as const;
export type ConditionKind = (typeof CONDITION_KINDS)[number];

export interface Condition {
  kind: ConditionKind;
  /** `machine`, `machine/service`, `machine:/mount`, a store or a domain. */
  target: string;
  reason: string;
  evidence: EvidenceRow[];
}

export interface DiskReading {
  machine: string;
  mount: string;
  usedPercent: number;
}

export interface BackupReading {
  store: string;
  /** The newest stamp with a manifest, and its age; absent when the store has none. */
  newest?: string;
  ageS?: number;
  /** Bytes of the newest copy (every file of it). */
  bytes?: number;
  error?: string;
}

/** How far a store's copy of the primary's binary log is behind it (src/backup/binlog-status.ts). */
export interface BinlogCopyReading {
  store: string;
  state: 'caught-up' | 'behind' | 'unknown';
  /** Seconds since the copy last received bytes while the primary wrote more: the RPO of a restore from it. */
  behindSeconds?: number;
  detail: string;
}

export interface CertReading {
  domain: string;
  address: string;
  daysLeft?: number;
  error?: string;
}

export interface HealthReading {
  /** The fleet's status, from the machines the failure verdict calls alive. */
  status: FleetStatus;
  disks: readonly DiskReading[];
  /** Machines whose disks could not be read, with why. */
  diskErrors: ReadonlyArray<{ machine: string; error: string }>;
  backups: readonly BackupReading[];
  /** The domain list as the primary holds it; absent when not read (no database, or the primary not alive). */
  domainList?: ReadonlyArray<{ domain: string; ip: string; state: 'online' | 'offline' | 'other' }>;
  /** Why the domain list could not be read, when it could not. */
  domainListError?: string;
  /** Each store's copy of the binary log; absent when not read (no shipping, or the primary not alive). */
  binlogCopies?: readonly BinlogCopyReading[];
  certs: readonly CertReading[];
}

export interface HealthLimits {
  diskFullPercent: number;
  backupMaxAgeS: number;
  /** A store's binary log copy may fall this many seconds behind. */
  binlogMaxLagS: number;
  certWarnDays: number;
}

export interface HealthVerdicts {
  conditions: Condition[];
  /** What could not be read: neither fine nor wrong. */
  unreadable: string[];
}

export function conditionsOf(r: HealthReading, limits: HealthLimits): HealthVerdicts {
  const conditions: Condition[] = [];
  const unreadable: string[] = [];
  for (const m of r.status.machines) {
    if (m.down || !m.reachable) continue; // out of service, or the failure verdict's business
    for (const s of m.services) {
      if (s.state === 'unknown') {
        unreadable.push(`${m.name}/${s.name}: ${s.detail}`);
        continue;
      }
      if (!s.healthy) {
        conditions.push({
          kind: 'service-down', target: `${m.name}/${s.name}`,
          reason: `${s.name} on ${m.name} is ${s.state === 'running' ? 'running but fails its health check' : 'not running'}: ${s.detail}`,
          evidence: [{ vantage: 'daemon', check: `${s.name} on ${m.name}`, seen: `${s.state}: ${s.detail}` }],
        });
      }
    }
    const db = m.mariadb;
    if (db && db.answers === false) {
      conditions.push({ kind: 'db-down', target: m.name, reason: `MariaDB on ${m.name} does not answer while the machine does: ${db.detail}`, evidence: [{ vantage: 'daemon', check: `mariadb on ${m.name}`, seen: db.detail }] });
    } else if (db && db.answers === undefined && !db.ok) {
      unreadable.push(`mariadb on ${m.name}: ${db.detail}`);
    }
    const rep = db?.replication;
    if (db?.role === 'replica' && rep && (rep.receiving === 'stopped' || rep.applying === 'stopped')) {
      conditions.push({
        kind: 'replication-broken', target: m.name,
        reason: `the replica ${m.name} is ${rep.receiving === 'stopped' ? 'not receiving' : 'not applying'}${rep.lastError ? `: ${rep.lastError}` : ''}`,
        evidence: [{ vantage: 'daemon', check: `replication on ${m.name}`, seen: `receiving ${rep.receiving ?? '?'}, applying ${rep.applying ?? '?'}, received ${rep.gtidReceived ?? '?'}, applied ${rep.gtidApplied ?? '?'}` }],
      });
    }
    if (db?.risk) {
      conditions.push({ kind: 'replication-at-risk', target: m.name, reason: db.risk, evidence: [{ vantage: 'daemon', check: `semi-sync on ${m.name}`, seen: rep?.semiSync ?? 'unknown' }] });
    }
  }
  for (const d of r.disks) {
    if (d.usedPercent >= limits.diskFullPercent) {
      conditions.push({ kind: 'disk-full', target: `${d.machine}:${d.mount}`, reason: `${d.mount} on ${d.machine} is ${d.usedPercent} % full (limit ${limits.diskFullPercent} %)`, evidence: [{ vantage: 'daemon', check: `df ${d.mount} on ${d.machine}`, seen: `${d.usedPercent} %` }] });
    }
  }
  for (const e of r.diskErrors) unreadable.push(`disks of ${e.machine}: ${e.error}`);
  for (const b of r.backups) {
    if (b.error) {
      unreadable.push(`backups on ${b.store}: ${b.error}`);
      continue;
    }
    const stale = b.ageS === undefined || b.ageS > limits.backupMaxAgeS;
    if (stale) {
      conditions.push({
        kind: 'backup-stale', target: b.store,
        reason: b.newest ? `the newest copy on ${b.store} (${b.newest}) is ${Math.round(b.ageS! / 60)} min old (limit ${Math.round(limits.backupMaxAgeS / 60)} min)` : `${b.store} holds no backup copy`,
        evidence: [{ vantage: 'daemon', check: `newest copy on ${b.store}`, seen: b.newest ?? 'none' }],
      });
    }
  }
  for (const b of r.binlogCopies ?? []) {
    if (b.state === 'unknown') {
      unreadable.push(`binary log copy on ${b.store}: ${b.detail}`);
      continue;
    }
    // Behind without a figure: the store holds nothing of the primary's log, the worst case.
    if (b.state === 'behind' && (b.behindSeconds === undefined || b.behindSeconds > limits.binlogMaxLagS)) {
      conditions.push({
        kind: 'binlog-behind', target: b.store,
        reason: `${b.store}'s copy of the binary log is ${b.behindSeconds === undefined ? 'missing' : `${b.behindSeconds} s behind (limit ${limits.binlogMaxLagS} s)`}: a restore from it loses what it lacks — ${b.detail}`,
        evidence: [{ vantage: 'daemon', check: `binary log copy on ${b.store}`, seen: b.behindSeconds === undefined ? 'none' : `${b.behindSeconds} s behind` }],
      });
    }
  }
  for (const c of r.certs) {
    if (c.error) {
      unreadable.push(`certificate of ${c.domain} at ${c.address}: ${c.error}`);
      continue;
    }
    if (c.daysLeft !== undefined && c.daysLeft <= limits.certWarnDays) {
      conditions.push({
        kind: 'cert-expiring', target: c.domain,
        reason: c.daysLeft < 0 ? `the certificate of ${c.domain} at ${c.address} expired ${-c.daysLeft} day(s) ago` : `the certificate of ${c.domain} at ${c.address} expires in ${c.daysLeft} day(s)`,
        evidence: [{ vantage: 'daemon', check: `TLS ${c.domain} at ${c.address}:443`, seen: `${c.daysLeft} days left` }],
      });
    }
  }
  return { conditions, unreadable };
}

/** `df -P -k` output → used percent per mount point (the header and odd lines skipped). */
export function parseDf(machine: string, text: string): DiskReading[] {
  const seen = new Map<string, DiskReading>();
  for (const line of text.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 6) continue;
    const used = Number(cols[4]!.replace('%', ''));
    const mount = cols.slice(5).join(' ');
    if (Number.isFinite(used)) seen.set(mount, { machine, mount, usedPercent: used });
  }
  return [...seen.values()];
}
