/**
 * The daemon's Prometheus metrics (prom-client), fed from its events and rounds, served on
 * `GET /metrics` by `lifeboat serve --listen HOST:PORT` (http-api.ts). One registry per daemon, no default
 * process metrics mixed in unless asked: the names are lifeboat's own and stable.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { BinlogCopyReading } from '../health/conditions.ts';
import { VERDICT_KINDS, type Verdict } from '../health/verdict.ts';
import type { WatchEvent } from './watch.ts';

const KINDS = VERDICT_KINDS;
const SEEN = { up: 1, down: 0, unknown: -1 } as const;

export class WatchMetrics {
  readonly registry = new Registry();
  private readonly verdict: Gauge;
  private readonly seen: Gauge;
  private readonly round: Histogram;
  private readonly incidents: Counter;
  private readonly decisions: Counter;
  private readonly recoveries: Counter;
  private readonly recoverySeconds: Histogram;
  private readonly started: Gauge;
  private readonly blocked: Gauge;
  private readonly condition: Gauge;
  private readonly binlogBehind: Gauge;
  private usersSideAges: () => Array<{ probe: string; ageS: number }> = () => [];

  constructor() {
    const registers = [this.registry];
    this.verdict = new Gauge({ name: 'lifeboat_verdict', help: 'The current failure verdict of each machine: 1 for its kind, 0 for the others', labelNames: ['machine', 'kind'], registers });
    this.seen = new Gauge({ name: 'lifeboat_vantage_seen', help: 'What each vantage point saw of each machine in the last round: 1 up, 0 down, -1 could not tell', labelNames: ['machine', 'vantage'], registers });
    this.round = new Histogram({ name: 'lifeboat_round_seconds', help: 'Time to judge every machine once', buckets: [0.5, 1, 2, 3, 5, 10, 30], registers });
    this.incidents = new Counter({ name: 'lifeboat_incidents_total', help: 'Incidents opened, by the scenario they call for', labelNames: ['scenario'], registers });
    this.decisions = new Counter({ name: 'lifeboat_decisions_total', help: 'Policy decisions, by scenario and action', labelNames: ['scenario', 'action'], registers });
    this.recoveries = new Counter({ name: 'lifeboat_recoveries_total', help: 'Recoveries the daemon ran, by scenario and outcome', labelNames: ['scenario', 'outcome'], registers });
    this.started = new Gauge({ name: 'lifeboat_start_time_seconds', help: 'When this daemon started (seconds since the epoch)', registers });
    this.started.set(Date.now() / 1000);
    this.blocked = new Gauge({ name: 'lifeboat_blocked', help: 'Blocked verdicts confirmed from the users\' side: 1 while it holds, 0 once cleared', labelNames: ['kind', 'target'], registers });
    this.condition = new Gauge({ name: 'lifeboat_condition', help: 'Conditions confirmed on living machines (service-down, disk-full…): 1 while it holds, 0 once cleared', labelNames: ['kind', 'target'], registers });
    this.binlogBehind = new Gauge({ name: 'lifeboat_binlog_copy_behind_seconds', help: "How far each store's copy of the primary's binary log is behind it (its RPO); +Inf when it holds none, -1 when it could not be read", labelNames: ['store'], registers });
    const ages = () => this.usersSideAges();
    new Gauge({
      name: 'lifeboat_users_side_report_age_seconds', help: 'Age of the newest report of each users\'-side probe', labelNames: ['probe'], registers,
      collect() {
        this.reset();
        for (const a of ages()) this.set({ probe: a.probe }, Math.round(a.ageS * 10) / 10);
      },
    });
    this.recoverySeconds = new Histogram({ name: 'lifeboat_recovery_seconds', help: 'Duration of the recoveries the daemon ran', labelNames: ['scenario'], buckets: [5, 10, 20, 30, 60, 120, 300, 600, 1800], registers });
  }

  observeRound(verdicts: readonly Verdict[], seconds: number): void {
    this.round.observe(seconds);
    for (const v of verdicts) {
      for (const kind of KINDS) this.verdict.set({ machine: v.machine, kind }, v.kind === kind ? 1 : 0);
      for (const view of v.views) this.seen.set({ machine: v.machine, vantage: view.vantage }, SEEN[view.seen]);
    }
  }

  /** Each reading of the stores' binary log copies (health-reading.ts). */
  observeBinlogCopies(copies: readonly BinlogCopyReading[] | undefined): void {
    if (!copies) return;
    this.binlogBehind.reset();
    for (const c of copies) this.binlogBehind.set({ store: c.store }, c.state === 'caught-up' ? 0 : c.state === 'unknown' ? -1 : c.behindSeconds ?? Infinity);
  }

  /** Where the users'-side report ages come from (read at every scrape). */
  watchUsersSide(ages: () => Array<{ probe: string; ageS: number }>): void {
    this.usersSideAges = ages;
  }

  observeEvent(e: WatchEvent): void {
    if (e.type === 'blocked') this.blocked.set({ kind: e.kind, target: e.target }, 1);
    if (e.type === 'unblocked') this.blocked.set({ kind: e.kind, target: e.target }, 0);
    if (e.type === 'condition') this.condition.set({ kind: e.kind, target: e.target }, 1);
    if (e.type === 'condition-cleared') this.condition.set({ kind: e.kind, target: e.target }, 0);
    if (e.type === 'incident-opened') this.incidents.inc({ scenario: e.scenario });
    if (e.type === 'decision') this.decisions.inc({ scenario: e.scenario, action: e.action });
    if (e.type === 'recovery-finished') {
      this.recoveries.inc({ scenario: e.scenario, outcome: e.outcome });
      this.recoverySeconds.observe({ scenario: e.scenario }, e.seconds);
    }
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
