/**
 * What the dashboard shows, gathered in the daemon as it works: the last verdict of every
 * machine (with what each vantage point saw, and since when), the last reading of the
 * conditions (services, databases, replication, backups, binlog copies), the daemon's recent
 * events, and the journal's runs (any process's: a recovery started by `lifeboat approve` on
 * the command line shows too). `view()` is one JSON-able snapshot; the page renders it whole.
 */
import { servicesOn } from '../../fleet/model.ts';
import type { Fleet } from '../../fleet/schema.ts';
import type { HealthReading } from '../../health/conditions.ts';
import type { Verdict } from '../../health/verdict.ts';
import type { Journal, RunRecord, StepRecord } from '../../recovery/journal.ts';
import type { DrillEntry, History } from '../../state/history.ts';
import type { WatchEvent } from '../watch.ts';

const EVENTS_KEPT = 300;
const RUNS_SHOWN = 12;
const OUTPUT_TAIL = 4000;
/** Below the live stream's pace (500 ms): a journal change shows at most this much later. */
const VIEW_REUSE_MS = 200;

export interface CellView {
  /** ok, bad, warn or unknown: the colour; `text` says the same in words. */
  tone: 'ok' | 'bad' | 'warn' | 'unknown';
  text: string;
  detail?: string;
}

export interface MachineView {
  name: string;
  address: string;
  roles: string[];
  down: boolean;
  verdict: CellView & { since?: string };
  /** Vantage point → what it saw in the last round. */
  seen: Record<string, 'up' | 'down' | 'unknown'>;
  /** Column (a service, `MariaDB`, `Redis`) → cell. */
  cells: Record<string, CellView>;
}

export interface StepView {
  index: number;
  parent: number | null;
  title: string;
  state: StepRecord['state'];
  startedAt: number | null;
  endedAt: number | null;
  output: string;
  error: string | null;
  changes: string[];
}

export interface RunView {
  id: string;
  scenario: string;
  input: unknown;
  mode: string;
  outcome: string;
  automatic: boolean;
  startedAt: number;
  endedAt: number | null;
  error: string | null;
  steps: StepView[];
  acknowledgements: Array<{ at: number; by: string; comment: string | null }>;
  /** A plan a person has not yet approved or rejected. */
  pending: boolean;
}

export interface DashboardView {
  fleet: string;
  at: string;
  columns: string[];
  machines: MachineView[];
  domains: Array<{ domain: string; machine: string; address: string; tone: CellView['tone']; state: string; certDaysLeft?: number; certError?: string }>;
  replication: Array<{ machine: string; role: string; semiSync?: string; receiving?: string; applying?: string; received?: string; gtid?: string; risk?: string }>;
  backups: Array<{ store: string; newest?: string; ageS?: number; bytes?: number; error?: string; binlog?: string; binlogTone?: CellView['tone']; restoreTest?: { at: number; ok: boolean; stamp: string; kind: string } }>;
  events: WatchEvent[];
  runs: RunView[];
  /** The drills run from this machine on this fleet, oldest first. */
  drills: DrillEntry[];
  readingAt?: string;
}

const TIMELINE: ReadonlySet<WatchEvent['type']> = new Set(['verdict', 'incident-opened', 'decision', 'recovery-finished', 'roles', 'incident-closed', 'flapping', 'blocked', 'unblocked', 'condition', 'condition-cleared', 'error']);

function tail(text: string): string {
  return text.length > OUTPUT_TAIL ? `…${text.slice(-OUTPUT_TAIL)}` : text;
}

export function runView(r: RunRecord): RunView {
  return {
    id: r.id, scenario: r.scenario, input: r.input, mode: r.mode, outcome: r.outcome, automatic: r.automatic,
    startedAt: r.startedAt, endedAt: r.endedAt, error: r.error,
    steps: r.steps.map((s) => ({
      index: s.index, parent: s.parent, title: s.title, state: s.state, startedAt: s.startedAt, endedAt: s.endedAt,
      output: tail(s.output), error: s.error,
      changes: s.changes.map((c) => ('text' in c && c.text ? `${c.machine ?? ''} ${c.text}` : 'command' in c && c.command ? `${c.machine ?? ''} $ ${c.command}` : 'path' in c ? `${c.machine ?? ''} ${c.path}` : c.kind).trim()),
    })),
    acknowledgements: r.acknowledgements.map((a) => ({ at: a.at, by: a.by, comment: a.comment })),
    pending: r.outcome === 'planned' && r.acknowledgements.length === 0,
  };
}

export class DashboardModel {
  private readonly verdicts = new Map<string, { verdict: Verdict; since: string }>();
  private reading: { at: string; value: HealthReading } | undefined;
  private readonly events: WatchEvent[] = [];
  /** Every open page asks twice a second: one build serves them all for a moment. */
  private cached: { at: number; view: DashboardView } | undefined;

  constructor(
    private readonly fleet: () => Fleet,
    private readonly journal: Journal,
    /** What was proved from this machine (drills, restore tests); none: not shown. */
    private readonly history?: Pick<History, 'recent' | 'lastRestoreTests'>,
    private readonly now: () => number = Date.now,
  ) {}

  observeRound(verdicts: readonly Verdict[]): void {
    for (const v of verdicts) {
      const before = this.verdicts.get(v.machine);
      this.verdicts.set(v.machine, { verdict: v, since: before && before.verdict.kind === v.kind ? before.since : new Date(this.now()).toISOString() });
    }
    this.cached = undefined;
  }

  observeHealth(reading: HealthReading): void {
    this.reading = { at: new Date(this.now()).toISOString(), value: reading };
    this.cached = undefined;
  }

  observeEvent(e: WatchEvent): void {
    if (!TIMELINE.has(e.type)) return;
    this.events.push(e);
    if (this.events.length > EVENTS_KEPT) this.events.splice(0, this.events.length - EVENTS_KEPT);
    this.cached = undefined;
  }

  view(): DashboardView {
    const now = this.now();
    if (!this.cached || now - this.cached.at >= VIEW_REUSE_MS) this.cached = { at: now, view: this.build() };
    return this.cached.view;
  }

  private build(): DashboardView {
    const fleet = this.fleet();
    const status = this.reading?.value.status;
    const services = Object.keys(fleet.services);
    const columns = [...services, ...(fleet.database ? ['MariaDB'] : []), ...(fleet.redis ? ['Redis'] : [])];
    const machines = fleet.machines.map((m): MachineView => {
      const v = this.verdicts.get(m.name);
      const st = status?.machines.find((x) => x.name === m.name);
      const cells: Record<string, CellView> = {};
      // Not read this time (judged not alive, or no reading yet): nothing about it is known.
      if (!st && this.reading && !m.down) {
        const own = [...servicesOn(fleet, m).map(([name]) => name), ...(m.roles.some((r) => r === 'db-primary' || r === 'db-replica') && fleet.database ? ['MariaDB'] : []), ...(m.roles.some((r) => r === 'redis' || r === 'redis-replica') && fleet.redis ? ['Redis'] : [])];
        for (const c of own) cells[c] = { tone: 'unknown', text: 'not read', detail: 'the last reading of the conditions covered only the machines judged alive' };
      }
      for (const s of st?.services ?? []) {
        cells[s.name] = s.state === 'unknown' ? { tone: 'unknown', text: 'unknown', detail: s.detail } : s.healthy ? { tone: 'ok', text: 'up', detail: s.detail } : { tone: 'bad', text: s.state === 'running' ? 'failing' : 'down', detail: s.detail };
      }
      if (st?.mariadb) cells['MariaDB'] = { tone: st.mariadb.ok ? (st.mariadb.risk ? 'warn' : 'ok') : st.mariadb.answers === false ? 'bad' : 'unknown', text: st.mariadb.role ?? (st.mariadb.ok ? 'up' : 'down'), detail: st.mariadb.risk ?? st.mariadb.detail };
      if (st?.redis) cells['Redis'] = { tone: st.redis.ok ? 'ok' : st.redis.answers === false ? 'bad' : 'unknown', text: st.redis.role ?? (st.redis.ok ? 'up' : 'down'), detail: st.redis.detail };
      const kind = v?.verdict.kind;
      const verdict: MachineView['verdict'] = !v
        ? { tone: 'unknown', text: m.down ? 'out of service' : 'not judged yet' }
        : { tone: kind === 'alive' ? 'ok' : kind === 'dead' ? 'bad' : kind === 'unreachable-from-some' ? 'warn' : 'unknown', text: kind!, detail: v.verdict.reason, since: v.since };
      const seen: MachineView['seen'] = {};
      for (const view of v?.verdict.views ?? []) seen[view.vantage] = view.seen;
      return { name: m.name, address: m.address, roles: st?.roles ?? m.roles, down: Boolean(m.down), verdict, seen, cells };
    });
    const certs = this.reading?.value.certs ?? [];
    const certOf = (domain: string) => {
      const cert = certs.find((c) => c.domain === domain);
      return { ...(cert?.daysLeft !== undefined ? { certDaysLeft: cert.daysLeft } : {}), ...(cert?.error ? { certError: cert.error } : {}) };
    };
    // The domain list as the apps read it, when the primary answered; the fleet file's otherwise.
    const list = this.reading?.value.domainList;
    const domains = list ? list.map((row) => {
      const m = fleet.machines.find((x) => x.address === row.ip);
      return {
        domain: row.domain, machine: m?.name ?? '(not in the fleet)', address: row.ip,
        tone: row.state === 'online' ? 'ok' as const : row.state === 'offline' ? 'bad' as const : 'unknown' as const, state: row.state, ...certOf(row.domain),
      };
    }) : fleet.machines.flatMap((m) => m.domains.map((domain) => {
      const mv = machines.find((x) => x.name === m.name)!;
      return {
        domain, machine: m.name, address: m.address, tone: m.down ? 'bad' as const : mv.verdict.tone,
        state: `${m.down ? 'machine out of service' : `machine ${mv.verdict.text}`} (domain list not read${this.reading?.value.domainListError ? `: ${this.reading.value.domainListError}` : ''})`, ...certOf(domain),
      };
    }));
    const replication = (status?.machines ?? []).filter((m) => m.mariadb?.role).map((m) => {
      const rep = m.mariadb!.replication;
      return {
        machine: m.name, role: m.mariadb!.role!,
        ...(rep?.semiSync ? { semiSync: rep.semiSync } : {}), ...(rep?.receiving ? { receiving: rep.receiving } : {}), ...(rep?.applying ? { applying: rep.applying } : {}),
        ...(rep?.gtidReceived ? { received: rep.gtidReceived } : {}), ...(rep?.gtidApplied ? { gtid: rep.gtidApplied } : {}), ...(m.mariadb!.risk ? { risk: m.mariadb!.risk } : {}),
      };
    });
    const copies = this.reading?.value.binlogCopies ?? [];
    const tests = this.history?.lastRestoreTests(fleet.name) ?? new Map();
    const backups = (this.reading?.value.backups ?? []).map((b) => {
      const copy = copies.find((c) => c.store === b.store);
      const test = tests.get(b.store);
      return {
        ...b,
        ...(test ? { restoreTest: { at: test.at, ok: test.ok, stamp: test.stamp, kind: test.kind } } : {}),
        ...(copy ? { binlog: copy.state === 'caught-up' ? 'caught up' : copy.state === 'unknown' ? `unknown: ${copy.detail}` : `${copy.behindSeconds ?? '∞'} s behind`, binlogTone: copy.state === 'caught-up' ? 'ok' as const : copy.state === 'unknown' ? 'unknown' as const : 'warn' as const } : {}),
      };
    });
    const runs = this.journal.runs({ limit: RUNS_SHOWN }).filter((r) => r.fleet === null || r.fleet === fleet.name).map((r) => runView(this.journal.run(r.id)));
    return {
      fleet: fleet.name, at: new Date(this.now()).toISOString(), columns, machines, domains, replication, backups,
      events: this.events.slice(-100), runs, drills: this.history?.recent(fleet.name) ?? [], ...(this.reading ? { readingAt: this.reading.at } : {}),
    };
  }
}
