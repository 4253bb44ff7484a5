/**
 * The watch daemon's loop (`lifeboat serve`): every `watch.intervalS` it judges every machine
 * from every vantage point (THE verdict of src/health/verdict.ts), lets the detector confirm a
 * death over consecutive rounds, names the runbook scenario (the same diagnosis as `recover`)
 * and applies the fleet's policy: notify, confirm (a planned run a person approves with
 * `lifeboat approve RUN`), or auto (the scenario runs now, through the same engine, journal
 * and one-at-a-time markers as the CLI). Observe mode decides the same and changes nothing.
 * While a recovery runs, no round is taken: it would compete with the recovery for the
 * machines it is fixing. A daemon restarted after a crash resumes its unfinished automatic
 * run from the journal before anything else.
 */
import type { ActionContext } from '../actions/action.ts';
import { deadForS, type Fleet, type WatchSettings } from '../fleet/schema.ts';
import { fleetStatus, type FleetStatus } from '../health/fleet-status.ts';
import { answersFromHere, judgeMachines, portsOf, rememberVerdict, type Verdict, type VerdictKind } from '../health/verdict.ts';
import { cooldown } from '../recovery/cooldown.ts';
import { diagnose, type Diagnosis } from '../recovery/diagnose.ts';
import type { Journal, RunRecord } from '../recovery/journal.ts';
import { scenarioNamed } from '../recovery/scenarios/index.ts';
import { startRecovery, type StartedRun } from '../recovery/start.ts';
import type { ScenarioInput } from '../recovery/step.ts';
import { conditionsOf, type Condition, type ConditionKind, type HealthReading } from '../health/conditions.ts';
import { blockVerdicts, type BlockKind, type BlockVerdict, type EvidenceRow } from '../health/reachability.ts';
import type { Alerter } from './alerts.ts';
import { Detector, StreakDetector } from './detector.ts';
import type { InsideProbes } from './inside-probes.ts';
import type { UsersSideStore } from './users-side/store.ts';
import { redactValue } from '../util/redact.ts';

export type WatchEventBody =
  | { type: 'started'; fleet: string; observe: boolean; intervalS: number; deadRounds: number; deadForS: number }
  | { type: 'verdict'; machine: string; kind: VerdictKind; reason: string }
  | { type: 'incident-opened'; machine: string; scenario: string; failed: string; why: string }
  | { type: 'decision'; scenario: string; failed: string; policy: string; action: 'started' | 'resumed' | 'planned' | 'notified' | 'observed' | 'cooling-down'; detail: string }
  | { type: 'recovery-finished'; runId: string; scenario: string; outcome: string; seconds: number }
  | { type: 'roles'; runId: string; recorded: boolean; detail: string }
  | { type: 'incident-closed'; machine: string }
  | { type: 'flapping'; machine: string; detail: string }
  | { type: 'blocked'; kind: BlockKind; target: string; reason: string; policy: 'notify'; evidence: EvidenceRow[] }
  | { type: 'unblocked'; kind: BlockKind; target: string }
  | { type: 'users-side'; state: 'silent' | 'back'; detail: string }
  | { type: 'condition'; kind: ConditionKind; target: string; reason: string; policy: 'notify'; evidence: EvidenceRow[] }
  | { type: 'condition-cleared'; kind: ConditionKind; target: string }
  | { type: 'unreadable'; detail: string }
  | { type: 'error'; message: string };
export type WatchEvent = { at: string } & WatchEventBody;

export interface WatchOptions {
  ctx: ActionContext;
  journal: Journal;
  settings: WatchSettings;
  /** Decide and alert, change nothing. */
  observe: boolean;
  alerter: Alerter;
  emit(event: WatchEvent): void;
  /** Overridable for tests: the verdicts of machines, the fleet's status. */
  judge?: (machines: readonly string[], exclude: readonly string[]) => Promise<Verdict[]>;
  /** Whether a machine answers a connection from the daemon's host now (between rounds). */
  answers?: (machine: string) => Promise<boolean>;
  status?: () => Promise<FleetStatus>;
  now?: () => number;
  /** Told every round's verdicts and how long the round took. */
  onRound?: (verdicts: readonly Verdict[], seconds: number) => void;
  /** The fleet file: roles a recovery changed are written into it and the daemon goes on with them. */
  fleetFile?: string;
  /** Users'-side reports and the daemon's own view of the same targets: the blocked verdicts. */
  usersSide?: { store: UsersSideStore; inside: Pick<InsideProbes, 'view'> };
  /** Reads the conditions on the machines judged alive (health-reading.ts); none: not read. */
  readHealth?: (ctx: ActionContext, alive: ReadonlySet<string>) => Promise<HealthReading>;
}

const iso = (ms: number) => new Date(ms).toISOString();
/**
 * The probes' own ~1.6 s plus margin: the daemon's SSH connections are already open. A
 * witness that died waits this long before its vote is dropped, in the round that first sees
 * the death; a late witness only casts no vote (fewer voices never make a machine dead).
 */
const WITNESS_ANSWER_MS = 2500;
/**
 * Connection attempts per port and vantage point in a round: two, 300 ms apart. A death
 * needs deadRounds rounds (at least two by default), so no single lost packet decides,
 * and a round that watches a dead machine ends 0.3 s sooner than with the CLI's three.
 */
const ROUND_ATTEMPTS = 2;
/** Between rounds, how often a machine whose death is being established is tried, and how long each try waits. */
const SUSPECT_WATCH_MS = 500;
const SUSPECT_ANSWER_MS = 400;
/** A status read this recently is still what the diagnosis needs. */
const STATUS_FRESH_MS = 15_000;

export class Watch {
  private readonly detector: Detector;
  /** The fleet as it is now: replaced when a recovery changes who does what. */
  private ctx: ActionContext;
  private readonly blocks: StreakDetector<BlockVerdict>;
  private readonly conditions: StreakDetector<Condition>;
  /** When the conditions were last read, and whether a reading is under way. */
  private lastHealthAt = -Infinity;
  /** Since when a death has been in the making (a dead or unknown verdict not decided on). */
  private unsettledSince: number | undefined;
  private healthReading: Promise<void> | undefined;
  /** What could not be read at the last reading, said once per change. */
  private unreadable = '';
  /** The users'-side store's generation last evaluated: one evaluation per new report. */
  private usersGeneration = 0;
  private usersSilent = false;
  /** Incidents already decided on, by `scenario failed`: one decision per incident. */
  private readonly decided = new Set<string>();
  /** Machines whose death a decision already covered: no diagnosis again until one more dies. */
  private readonly handled = new Set<string>();
  private readonly now: () => number;
  private readonly judge: (machines: readonly string[], exclude: readonly string[]) => Promise<Verdict[]>;
  private readonly answers: (machine: string) => Promise<boolean>;
  private readonly status: () => Promise<FleetStatus>;
  /** Machines whose newest verdict is `dead`. */
  private lastDead: string[] = [];
  /** The fleet's status, read when a machine was first judged dead. */
  private pendingStatus: { at: number; reading: Promise<FleetStatus> } | undefined;

  constructor(private readonly o: WatchOptions) {
    this.ctx = o.ctx;
    const rounds = o.settings.rounds;
    this.detector = new Detector(rounds.dead ?? o.settings.deadRounds, deadForS(o.settings) * 1000);
    this.blocks = new StreakDetector<BlockVerdict>((kind) => rounds[kind] ?? o.settings.deadRounds);
    this.conditions = new StreakDetector<Condition>((kind) => rounds[kind] ?? o.settings.deadRounds);
    this.now = o.now ?? Date.now;
    // A machine judged dead last round is not asked about the others: it casts no vote, and
    // a command on its stale connection would hold the whole round until its time-out.
    // One command per witness for the whole round (judgeMachines), so watching does not load
    // the machines it watches.
    this.answers = o.answers ?? ((name) => {
      const m = this.ctx.fleet.machines.find((x) => x.name === name);
      return m ? answersFromHere(m.address, portsOf(this.ctx.fleet, m), SUSPECT_ANSWER_MS) : Promise.resolve(false);
    });
    this.judge = o.judge ?? ((machines, exclude) => judgeMachines(o.ctx, machines, { exclude, witnessTimeoutMs: WITNESS_ANSWER_MS, attempts: ROUND_ATTEMPTS }));
    this.status = o.status ?? (() => this.statusOfLiving());
  }

  /** Events are the daemon's log (printed, --json, alerts' source): through the one masker. */
  private event(event: WatchEventBody): void {
    this.o.emit(redactValue({ at: iso(this.now()), ...event }) as WatchEvent);
  }

  /** Plans a person approved (the dashboard), run before the next round. */
  private readonly approved: Array<{ planned: RunRecord; by: string }> = [];
  /** Ends the wait between rounds early (an approval came in). */
  private wake: (() => void) | undefined;

  /** The fleet as the daemon knows it now (roles follow its recoveries). */
  get fleet(): Fleet {
    return this.ctx.fleet;
  }

  /**
   * A person approved a plan this daemon made under a confirm policy: it is recorded as
   * theirs and runs before the next round, as an automatic recovery would (one at a time,
   * roles followed). Refused when it is not a plan still waiting.
   */
  approve(runId: string, by: string): RunRecord {
    const planned = this.o.journal.run(this.o.journal.resolveId(runId));
    if (planned.outcome !== 'planned') throw new Error(`run ${planned.id} is ${planned.outcome}, not a plan waiting for approval`);
    if (planned.acknowledgements.length > 0 || this.approved.some((a) => a.planned.id === planned.id)) throw new Error(`run ${planned.id} was already decided: ${planned.acknowledgements.map((a) => `${a.comment ?? 'acknowledged'} by ${a.by}`).join(', ') || 'approved'}`);
    if (planned.fleet !== this.ctx.fleet.name) throw new Error(`run ${planned.id} is for fleet ${planned.fleet}, not ${this.ctx.fleet.name}`);
    if (!scenarioNamed(planned.scenario)) throw new Error(`run ${planned.id} names an unknown scenario ${planned.scenario}`);
    if (this.o.observe) throw new Error('this daemon runs in observe mode: it changes nothing');
    this.o.journal.acknowledge(planned.id, by, 'approved');
    this.approved.push({ planned, by });
    this.wake?.();
    return planned;
  }

  private async runApproved(): Promise<void> {
    for (let next = this.approved.shift(); next; next = this.approved.shift()) {
      const { planned, by } = next;
      const failed = (planned.input as { failed?: string } | null)?.failed ?? '';
      this.event({ type: 'decision', scenario: planned.scenario, failed, policy: 'confirm', action: 'started', detail: `approved by ${by} (plan ${planned.id})` });
      await this.runAutomatic(() => startRecovery({ scenario: scenarioNamed(planned.scenario)!, input: planned.input as ScenarioInput, ctx: this.ctx, journal: this.o.journal, mode: 'auto', ...this.fleetFileOption() }));
    }
  }

  /** Runs rounds until `signal` aborts; the current round or recovery finishes first. */
  async run(signal: AbortSignal): Promise<void> {
    const fleet = this.ctx.fleet;
    this.event({ type: 'started', fleet: fleet.name, observe: this.o.observe, intervalS: this.o.settings.intervalS, deadRounds: this.o.settings.deadRounds, deadForS: deadForS(this.o.settings) });
    if (!this.o.observe) await this.resumeUnfinished();
    while (!signal.aborted) {
      const started = this.now();
      try {
        await this.runApproved();
        await this.round();
      } catch (error) {
        this.event({ type: 'error', message: (error as Error).message });
      }
      // A death being established is confirmed as soon as it may be (the confirming round
      // ending deadForS after the start of the one that first saw it), not at the next tick
      // of the usual pace.
      const due = this.detector.confirmationDue();
      const pace = this.o.settings.intervalS * 1000 - (this.now() - started);
      const wait = due === undefined ? pace : Math.min(pace, due - this.now());
      if (wait > 0 && !signal.aborted) await this.between(this.now() + wait, signal);
    }
    // A condition reading under way finishes before the daemon closes its connections.
    await this.settled();
  }

  /**
   * The wait until the next round. A machine whose death is being established is watched
   * meanwhile, a connection attempt every SUSPECT_WATCH_MS: rounds seconds apart cannot see a
   * link that flaps between them (a 3 s cut every 6 s looked dead to two rounds 5 s apart),
   * and one answer proves it is not dead.
   */
  private async between(until: number, signal: AbortSignal): Promise<void> {
    // Each wait removes its abort listener: a daemon waits thousands of times.
    const sleep = (ms: number) => new Promise<void>((resolve) => {
      const done = () => { clearTimeout(timer); signal.removeEventListener('abort', done); this.wake = undefined; resolve(); };
      const timer = setTimeout(done, Math.max(0, ms));
      signal.addEventListener('abort', done, { once: true });
      this.wake = done;
    });
    while (!signal.aborted && this.now() < until && this.approved.length === 0) {
      const suspects = this.detector.suspects().filter((m) => !this.handled.has(m));
      if (suspects.length === 0) return sleep(until - this.now());
      const t = this.now();
      await Promise.all(suspects.map(async (m) => {
        // A try that fails to run is no answer: it never ends a streak, never makes one.
        if (!(await this.answers(m).catch(() => false))) return;
        if (this.detector.seenUp(m, this.now())) this.event({ type: 'verdict', machine: m, kind: 'alive', reason: `${m} answered the daemon between rounds: not dead` });
      }));
      await sleep(Math.min(until, t + SUSPECT_WATCH_MS) - this.now());
    }
  }

  /** One round: judge every machine, confirm, diagnose, apply the policy. */
  async round(): Promise<void> {
    const fleet = this.ctx.fleet;
    const t0 = this.now();
    const verdicts = await this.judge(fleet.machines.map((m) => m.name), this.lastDead);
    const t1 = this.now();
    this.o.onRound?.(verdicts, (t1 - t0) / 1000);
    this.lastDead = verdicts.filter((v) => v.kind === 'dead').map((v) => v.machine);
    const seen = this.detector.observe(verdicts, t0, t1);
    for (const v of seen.changed) this.event({ type: 'verdict', machine: v.machine, kind: v.kind, reason: v.reason });
    this.startHealthReading(verdicts);
    for (const m of seen.flapping) {
      this.event({ type: 'flapping', machine: m, detail: `${m} died and came back twice within a few rounds: it must now stay dead ${this.detector.roundsNeeded(m)} rounds before anything is done` });
    }
    await this.usersSideRound(verdicts);
    for (const m of seen.revived) {
      this.event({ type: 'incident-closed', machine: m });
      for (const key of [...this.decided]) if (key.endsWith(` ${m}`)) this.decided.delete(key);
      this.handled.delete(m);
    }
    await this.returnedRound(verdicts);
    // A first dead verdict starts reading the fleet's status at once, so that it is ready
    // when the death is confirmed rounds later instead of being read only then.
    const unhandled = this.lastDead.filter((m) => !this.handled.has(m));
    if (unhandled.length > 0 && !this.pendingStatus) {
      const reading = this.status();
      reading.catch(() => undefined);
      this.pendingStatus = { at: this.now(), reading };
    }
    if (unhandled.length === 0) this.pendingStatus = undefined;
    if (!seen.confirmedDead.some((m) => !this.handled.has(m))) return;
    // Only confirmed deaths count as dead for the diagnosis; everything else keeps its verdict.
    const kinds = new Map<string, VerdictKind>(verdicts.map((v) => [v.machine, v.kind === 'dead' && !seen.confirmedDead.includes(v.machine) ? 'unknown' : v.kind]));
    const fresh = this.pendingStatus && this.now() - this.pendingStatus.at <= STATUS_FRESH_MS ? this.pendingStatus.reading : this.status();
    this.pendingStatus = undefined;
    const found = diagnose(fleet, await fresh, kinds);
    // Every death seen now is covered by this round's decision, or by none the policy could take.
    for (const m of seen.confirmedDead) this.handled.add(m);
    const next = found.find((d) => !this.decided.has(`${d.scenario} ${d.failed}`));
    if (!next) return;
    // The recovery's own "really failed" check uses the verdicts just reached (the same
    // evidence, seconds old) instead of waiting out a dead machine's time-outs again.
    for (const v of verdicts) if (seen.confirmedDead.includes(v.machine)) rememberVerdict(fleet, v);
    this.decided.add(`${next.scenario} ${next.failed}`);
    this.event({ type: 'incident-opened', machine: next.failed, scenario: next.scenario, failed: next.failed, why: next.why });
    await this.decide(next);
  }

  /**
   * A machine the fleet file marks out of service that answers again (an old primary back
   * after a failover): it may run its services as it did, singletons and a writable database
   * included. Named the round it is seen alive, and handled by the `rejoin` policy (notify by
   * default: `lifeboat recover rejoin` fences it first). Once per return: dead again, it may
   * be named again when it comes back.
   */
  private async returnedRound(verdicts: readonly Verdict[]): Promise<void> {
    for (const v of verdicts) {
      const key = `rejoin ${v.machine}`;
      if (v.kind === 'dead') this.decided.delete(key);
      const m = this.ctx.fleet.machines.find((x) => x.name === v.machine);
      if (!m?.down || v.kind !== 'alive' || this.decided.has(key)) continue;
      // The rejoin runbook brings back app servers (their database and singletons are the danger).
      if (!m.down.roles.some((r) => r === 'app' || r === 'db-primary' || r === 'db-replica')) continue;
      this.decided.add(key);
      const why = `${m.name} is out of service in the fleet file (since ${m.down.since}, run ${m.down.run}) and answers again: what it ran as ${m.down.roles.join(', ') || 'nothing'} may be running again`;
      this.event({ type: 'incident-opened', machine: m.name, scenario: 'rejoin', failed: m.name, why });
      await this.decide({ scenario: 'rejoin', failed: m.name, why });
    }
  }

  private async decide(d: Diagnosis): Promise<void> {
    const fleet = this.ctx.fleet;
    const policy = this.o.settings.policy[d.scenario as keyof WatchSettings['policy']] ?? 'notify';
    const input: ScenarioInput = { failed: d.failed, ...(d.replacement ? { replacement: d.replacement } : {}) };
    const command = `lifeboat recover ${d.scenario} --failed ${d.failed}${d.replacement ? ` --replacement ${d.replacement}` : ''}`;
    const alert = (action: string, severity: 'warning' | 'critical', text: string, extra: Record<string, unknown> = {}) =>
      this.o.alerter.send({
        key: `${action} ${d.scenario} ${d.failed} ${this.now()}`, severity, fleet: fleet.name, at: iso(this.now()),
        title: `${fleet.name}: ${d.why}`, text, data: { scenario: d.scenario, failed: d.failed, policy, action, ...extra },
      });
    if (this.o.observe) {
      const detail = policy === 'auto' ? `a failover would start now: ${command}` : `policy ${policy}: ${command}`;
      this.event({ type: 'decision', scenario: d.scenario, failed: d.failed, policy, action: 'observed', detail });
      await alert('observed', 'warning', `Observe mode, nothing changed. ${detail}`);
      return;
    }
    if (policy === 'notify') {
      this.event({ type: 'decision', scenario: d.scenario, failed: d.failed, policy, action: 'notified', detail: command });
      await alert('notified', 'critical', `A person should run: ${command}`);
      return;
    }
    const scenario = scenarioNamed(d.scenario);
    if (!scenario) throw new Error(`diagnosis named an unknown scenario ${d.scenario}`);
    if (policy === 'confirm') {
      const run = await startRecovery({ scenario, input, ctx: this.ctx, journal: this.o.journal, mode: 'plan' });
      const detail = `planned as run ${run.id}; approve with \`lifeboat approve ${run.id}\``;
      this.event({ type: 'decision', scenario: d.scenario, failed: d.failed, policy, action: 'planned', detail });
      await alert('planned', 'critical', `The plan is ready: ${detail}`, { runId: run.id });
      return;
    }
    const cool = cooldown(this.o.journal, this.now(), this.o.settings.cooldownS * 1000);
    if (cool.blocked) {
      this.event({ type: 'decision', scenario: d.scenario, failed: d.failed, policy, action: 'cooling-down', detail: cool.message });
      await alert('cooling-down', 'critical', `Not starting: ${cool.message}. A person should look now.`);
      return;
    }
    this.event({ type: 'decision', scenario: d.scenario, failed: d.failed, policy, action: 'started', detail: command });
    await alert('started', 'critical', `Recovery started: ${command}`);
    await this.runAutomatic(() => startRecovery({ scenario, input, ctx: this.ctx, journal: this.o.journal, mode: 'auto', automatic: true, ...this.fleetFileOption() }));
  }

  /**
   * Every `watch.health.intervalS` the conditions on the living machines are read beside the
   * rounds (a reading takes seconds: it must not hold up the next death round), one reading
   * at a time; a machine not judged alive is left to the failure verdict.
   */
  private startHealthReading(verdicts: readonly Verdict[]): void {
    const read = this.o.readHealth;
    if (!read || this.healthReading || this.now() - this.lastHealthAt < this.o.settings.health.intervalS * 1000) return;
    // A death being established comes first: a reading loads the machines whose witnesses the
    // rounds need now, and the recovery must not share them with it. Not for ever, though:
    // a fleet that stays unclear still gets its conditions read every few intervals.
    const unsettled = verdicts.some((v) => (v.kind === 'dead' || v.kind === 'unknown') && !this.handled.has(v.machine));
    if (!unsettled) this.unsettledSince = undefined;
    else this.unsettledSince ??= this.now();
    if (this.unsettledSince !== undefined && this.now() - this.unsettledSince < 5 * this.o.settings.health.intervalS * 1000) return;
    this.lastHealthAt = this.now();
    const alive = new Set(verdicts.filter((v) => v.kind === 'alive').map((v) => v.machine));
    this.healthReading = read(this.ctx, alive)
      .then((reading) => this.healthVerdicts(reading))
      .catch((error: unknown) => this.event({ type: 'error', message: `reading the fleet's conditions failed: ${(error as Error).message}` }))
      .finally(() => { this.healthReading = undefined; });
  }

  /** The reading under way, if any (tests and a clean stop wait for it). */
  async settled(): Promise<void> {
    await this.healthReading;
  }

  private async healthVerdicts(reading: HealthReading): Promise<void> {
    const fleet = this.ctx.fleet;
    const h = this.o.settings.health;
    const found = conditionsOf(reading, { diskFullPercent: h.diskFullPercent, backupMaxAgeS: h.backupMaxAgeS, binlogMaxLagS: h.binlogMaxLagS, certWarnDays: h.certWarnDays });
    const unreadable = found.unreadable.join('; ');
    if (unreadable !== this.unreadable) {
      this.unreadable = unreadable;
      if (unreadable) this.event({ type: 'unreadable', detail: `could not read (neither fine nor wrong): ${unreadable}` });
    }
    const seen = this.conditions.observe(found.conditions);
    for (const c of seen.confirmed) {
      this.event({ type: 'condition', kind: c.kind, target: c.target, reason: c.reason, policy: 'notify', evidence: c.evidence });
      await this.o.alerter.send({ key: `condition ${c.kind} ${c.target} ${this.now()}`, severity: 'warning', fleet: fleet.name, at: iso(this.now()), title: `${fleet.name}: ${c.kind} ${c.target}`, text: c.reason, data: { kind: c.kind, target: c.target, evidence: c.evidence } });
    }
    for (const c of seen.cleared) {
      this.event({ type: 'condition-cleared', kind: c.kind, target: c.target });
      await this.o.alerter.send({ key: `cleared ${c.kind} ${c.target} ${this.now()}`, severity: 'info', fleet: fleet.name, at: iso(this.now()), title: `${fleet.name}: ${c.target} fine again`, text: `${c.kind} on ${c.target} no longer holds.`, data: { kind: c.kind, target: c.target } });
    }
  }

  /**
   * Blocked, not dead: the users'-side reports against the inside view. Evaluated once per new
   * report, so N rounds are N reports. A users' side gone silent is said aloud: no report is
   * not "nothing blocked".
   */
  private async usersSideRound(verdicts: readonly Verdict[]): Promise<void> {
    const u = this.o.usersSide;
    if (!u) return;
    const fleet = this.ctx.fleet;
    const reports = u.store.fresh();
    if (reports.length === 0 && u.store.generation > 0 && !this.usersSilent) {
      this.usersSilent = true;
      const detail = `no users'-side probe has reported for ${Math.round(Math.min(...u.store.ages().map((a) => a.ageS)))} s: blocked addresses, ports and domains cannot be seen`;
      this.event({ type: 'users-side', state: 'silent', detail });
      await this.o.alerter.send({ key: `users-side silent ${this.now()}`, severity: 'warning', fleet: fleet.name, at: iso(this.now()), title: `${fleet.name}: users'-side probes silent`, text: detail, data: { state: 'silent' } });
    } else if (reports.length > 0 && this.usersSilent) {
      this.usersSilent = false;
      this.event({ type: 'users-side', state: 'back', detail: `${reports.length} users'-side probe(s) reporting again` });
    }
    if (reports.length === 0 || u.store.generation === this.usersGeneration) return;
    this.usersGeneration = u.store.generation;
    const alive = new Set(verdicts.filter((v) => v.kind === 'alive').map((v) => v.machine));
    const seen = this.blocks.observe(blockVerdicts(reports, u.inside.view(alive)));
    for (const v of seen.confirmed) {
      this.event({ type: 'blocked', kind: v.kind, target: v.target, reason: v.reason, policy: 'notify', evidence: v.evidence });
      await this.o.alerter.send({
        key: `blocked ${v.kind} ${v.target} ${this.now()}`, severity: 'critical', fleet: fleet.name, at: iso(this.now()),
        title: `${fleet.name}: ${v.kind} ${v.target}`,
        text: `${v.reason}. No machine is failed over for this.${reports.length === 1 ? ' (one users\'-side probe reports: add more for a quorum)' : ''}`,
        data: { kind: v.kind, target: v.target, evidence: v.evidence },
      });
    }
    for (const v of seen.cleared) {
      this.event({ type: 'unblocked', kind: v.kind, target: v.target });
      await this.o.alerter.send({ key: `unblocked ${v.kind} ${v.target} ${this.now()}`, severity: 'info', fleet: fleet.name, at: iso(this.now()), title: `${fleet.name}: ${v.target} reachable again`, text: `The users' side reaches ${v.target} again.`, data: { kind: v.kind, target: v.target } });
    }
  }

  /**
   * The fleet's status from the machines not judged dead: a dead one is reported unreachable
   * without asking (its verdict already says so), so a round does not wait out its time-outs.
   */
  private async statusOfLiving(): Promise<FleetStatus> {
    const fleet = this.ctx.fleet;
    const dead = new Set(this.lastDead);
    const living = { ...fleet, machines: fleet.machines.filter((m) => !dead.has(m.name)) };
    const status = await fleetStatus(living, { remote: this.ctx.remote, secret: this.ctx.secret });
    const gone = fleet.machines.filter((m) => dead.has(m.name)).map((m) => ({
      name: m.name, address: m.address, roles: [...m.roles], reachable: false, error: 'judged dead by every vantage point', services: [], healthy: false,
    }));
    return { ...status, healthy: status.healthy && gone.length === 0, machines: [...status.machines, ...gone] };
  }

  /**
   * A daemon killed mid-recovery left its run unfinished (still `running` in the journal, its
   * process gone): it is resumed before any new round, whether or not it had changed anything
   * yet. A run that failed is not: its failure was alerted and waits for a person.
   */
  private async resumeUnfinished(): Promise<void> {
    const fleet = this.ctx.fleet;
    for (const r of this.o.journal.unfinishedRuns().filter((run) => run.automatic && run.fleet === fleet.name && run.mode !== 'plan')) {
      const scenario = scenarioNamed(r.scenario);
      if (!scenario) continue;
      const failed = (r.input as { failed?: string } | null)?.failed ?? '';
      this.decided.add(`${r.scenario} ${failed}`);
      this.event({ type: 'decision', scenario: r.scenario, failed, policy: 'auto', action: 'resumed', detail: `run ${r.id}` });
      await this.runAutomatic(() => startRecovery({ scenario, input: r.input as ScenarioInput, ctx: this.ctx, journal: this.o.journal, mode: 'auto', automatic: true, resumeRunId: r.id, ...this.fleetFileOption() }));
    }
  }

  private fleetFileOption(): { fleetFile?: string } {
    return this.o.fleetFile ? { fleetFile: this.o.fleetFile } : {};
  }

  private async runAutomatic(start: () => Promise<StartedRun>): Promise<void> {
    const t0 = this.now();
    let run: StartedRun;
    try {
      run = await start();
    } catch (error) {
      this.event({ type: 'error', message: `recovery did not start: ${(error as Error).message}` });
      return;
    }
    const seconds = Math.round((this.now() - t0) / 100) / 10;
    this.event({ type: 'recovery-finished', runId: run.id, scenario: run.scenario, outcome: run.outcome, seconds });
    // Roles follow the recovery: the next round judges and diagnoses the fleet as it is now.
    let rolesNote = '';
    if (run.roles && 'recorded' in run.roles) {
      this.ctx = { ...this.ctx, fleet: run.roles.recorded.fleet };
      rolesNote = run.roles.recorded.diff ? ` The fleet file now names the new roles (${run.roles.recorded.file}).` : '';
      this.event({ type: 'roles', runId: run.id, recorded: true, detail: run.roles.recorded.diff || 'unchanged' });
    } else if (run.roles) {
      rolesNote = ` ${run.roles.error}: a person must fix the roles before anything else.`;
      this.event({ type: 'roles', runId: run.id, recorded: false, detail: run.roles.error });
    }
    const failed = run.steps.filter((s) => s.state === 'failed').map((s) => s.title);
    await this.o.alerter.send({
      key: `finished ${run.id} ${run.outcome}`,
      severity: run.outcome === 'recovered' ? 'info' : 'critical',
      fleet: this.ctx.fleet.name,
      at: iso(this.now()),
      title: `${this.ctx.fleet.name}: ${run.scenario} ${run.outcome} in ${seconds} s (run ${run.id})`,
      text: (run.outcome === 'recovered' ? 'Recovered.' : `Failed steps: ${failed.join('; ') || 'none'}. Resume with \`lifeboat recover --resume ${run.id}\`.`) + rolesNote,
      data: { runId: run.id, scenario: run.scenario, outcome: run.outcome, seconds },
    });
  }
}
