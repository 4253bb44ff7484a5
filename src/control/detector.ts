/**
 * From one round of verdicts to what the daemon may act on. A verdict is acted on only when
 * it held for N consecutive rounds (one slow round, one lost packet, a flapping link never
 * decide) and a death only once it has lasted `deadForMs` without the machine answering in
 * between (a cut shorter than that is a blip, however many rounds saw it: `seenUp`), and only
 * `dead` is ever acted on: `unreachable-from-some` and `unknown` are
 * reported, never failed over. Pure: the daemon feeds it, tests feed it too.
 */
import type { Verdict, VerdictKind } from '../health/verdict.ts';

interface Streak {
  kind: VerdictKind;
  rounds: number;
  /** Rounds in a row that could not tell (unknown) since the last one of this kind. */
  gaps: number;
  /** When the round that reached the first verdict of this streak started (ms since the epoch). */
  since: number;
  /** How long the streak's latest round took (a dead machine's round waits out its time-outs). */
  roundMs: number;
}

export interface Observation {
  /** Machines whose verdict changed this round, with the new verdict. */
  changed: Verdict[];
  /** Machines judged dead for at least the required rounds, oldest streak first. */
  confirmedDead: string[];
  /** Machines that were confirmed dead and are now seen alive again. */
  revived: string[];
  /** Machines that just started flapping (dead, back, dead again within a few rounds). */
  flapping: string[];
}

/**
 * A machine that went from answering to dead twice within this many rounds is flapping (a
 * bad link, a switch port going up and down): it must stay dead FLAP_FACTOR times as many
 * rounds before it counts. A failover over a link that comes back in seconds costs more than
 * the seconds it saves, and a flapping primary failed over is a split brain waiting.
 */
const FLAP_WINDOW_ROUNDS = 20;
const FLAP_FACTOR = 3;

export class Detector {
  private readonly streaks = new Map<string, Streak>();
  private readonly confirmed = new Set<string>();
  /** The verdict last reported for each machine (every change is reported). */
  private readonly shown = new Map<string, VerdictKind>();
  /** Rounds (by number) in which each machine died after it had been seen alive. */
  private readonly deaths = new Map<string, number[]>();
  private round = 0;

  /**
   * @param deadRounds consecutive dead rounds before a death counts
   * @param deadForMs how long it must have lasted: from the start of the first round that saw
   *   it dead to the end of the round that confirms it (its probes waited that long for an
   *   answer; between the rounds the daemon watches the suspect, so the span is covered)
   */
  constructor(private readonly deadRounds: number, private readonly deadForMs = 0) {
    if (!Number.isInteger(deadRounds) || deadRounds < 1) throw new RangeError('deadRounds must be a whole number ≥ 1');
    if (!(deadForMs >= 0)) throw new RangeError('deadForMs must be ≥ 0');
  }

  /** `now`: when the round whose verdicts these are started; `endedAt`: when its verdicts were in. */
  observe(verdicts: readonly Verdict[], now: number, endedAt = now): Observation {
    const changed: Verdict[] = [];
    const revived: string[] = [];
    const flapping: string[] = [];
    this.round += 1;
    for (const v of verdicts) {
      if (this.shown.get(v.machine) !== v.kind) {
        this.shown.set(v.machine, v.kind);
        changed.push(v);
      }
      const before = this.streaks.get(v.machine);
      // A round that could not tell (too few vantage points answered: a loaded machine, a slow
      // link) adds no evidence to a death and takes none away; the streak waits, for at most
      // deadRounds such rounds in a row. Only a round that sees the machine counts.
      if (v.kind === 'unknown' && before?.kind === 'dead' && before.gaps < this.deadRounds) {
        before.gaps += 1;
        continue;
      }
      if (before?.kind === v.kind) {
        before.rounds += 1;
        before.gaps = 0;
        before.roundMs = endedAt - now;
      } else {
        this.streaks.set(v.machine, { kind: v.kind, rounds: 1, since: now, gaps: 0, roundMs: endedAt - now });
        // Died after it had been seen alive: twice within the window is a flapping machine.
        if (v.kind === 'dead' && before?.kind === 'alive') {
          const recent = [...(this.deaths.get(v.machine) ?? []), this.round].filter((r) => r > this.round - FLAP_WINDOW_ROUNDS);
          this.deaths.set(v.machine, recent);
          if (recent.length === 2) flapping.push(v.machine);
        }
      }
      const streak = this.streaks.get(v.machine)!;
      if (streak.kind === 'dead' && streak.rounds >= this.roundsNeeded(v.machine) && endedAt - streak.since >= this.deadForMs) this.confirmed.add(v.machine);
      if (streak.kind === 'alive' && this.confirmed.delete(v.machine)) revived.push(v.machine);
    }
    const confirmedDead = [...this.confirmed]
      .filter((m) => this.streaks.get(m)?.kind === 'dead')
      .sort((a, b) => this.streaks.get(a)!.since - this.streaks.get(b)!.since);
    return { changed, confirmedDead, revived, flapping };
  }

  /** Dead rounds a machine needs now: more while it flaps. */
  roundsNeeded(machine: string): number {
    const recent = (this.deaths.get(machine) ?? []).filter((r) => r > this.round - FLAP_WINDOW_ROUNDS);
    return recent.length >= 2 ? this.deadRounds * FLAP_FACTOR : this.deadRounds;
  }

  /** Machines whose death is being established: judged dead, not confirmed yet. */
  suspects(): string[] {
    return [...this.streaks].filter(([m, s]) => s.kind === 'dead' && !this.confirmed.has(m)).map(([m]) => m);
  }

  /**
   * A suspect answered between rounds: it is not dead, and the streak ends as if a round had
   * seen it alive (a flapping link shows as flapping). Returns whether a streak ended.
   */
  seenUp(machine: string, now: number): boolean {
    const s = this.streaks.get(machine);
    if (s?.kind !== 'dead' || this.confirmed.has(machine)) return false;
    this.streaks.set(machine, { kind: 'alive', rounds: 1, since: now, gaps: 0, roundMs: 0 });
    this.shown.set(machine, 'alive');
    return true;
  }

  /**
   * When the next round could confirm a death being established (the earliest over the
   * machines whose next dead round completes their count), or undefined when none is: the
   * daemon starts that round then rather than at its usual pace. It is due as long before
   * `deadForMs` is up as the streak's last round took, so that it ends as the time is up
   * (a round that ends sooner confirms nothing, and the next one is due as much later).
   */
  confirmationDue(): number | undefined {
    let due: number | undefined;
    for (const [machine, s] of this.streaks) {
      if (s.kind !== 'dead' || this.confirmed.has(machine) || s.rounds + 1 < this.roundsNeeded(machine)) continue;
      const at = s.since + this.deadForMs - s.roundMs;
      if (due === undefined || at < due) due = at;
    }
    return due;
  }

  /** The verdict a machine's streak holds, and for how many rounds. */
  streakOf(machine: string): { kind: VerdictKind; rounds: number } | undefined {
    const s = this.streaks.get(machine);
    return s ? { kind: s.kind, rounds: s.rounds } : undefined;
  }
}

/**
 * The same rule for verdicts about paths and conditions (ip-blocked, service-down…), keyed by
 * kind and target and counted per evaluation: confirmed after N consecutive evaluations that
 * reached it, cleared when one no longer does.
 */
export class StreakDetector<V extends { kind: string; target: string }> {
  private readonly streaks = new Map<string, number>();
  private readonly confirmed = new Map<string, V>();

  constructor(private readonly roundsFor: (kind: V['kind']) => number) {}

  observe(found: readonly V[]): { confirmed: V[]; cleared: V[] } {
    const keyOf = (v: V) => `${v.kind} ${v.target}`;
    const now = new Map(found.map((v) => [keyOf(v), v]));
    const confirmed: V[] = [];
    const cleared: V[] = [];
    for (const key of [...this.streaks.keys()]) if (!now.has(key)) this.streaks.delete(key);
    for (const [key, v] of [...this.confirmed]) {
      if (!now.has(key)) {
        this.confirmed.delete(key);
        cleared.push(v);
      }
    }
    for (const [key, v] of now) {
      const rounds = (this.streaks.get(key) ?? 0) + 1;
      this.streaks.set(key, rounds);
      if (rounds >= this.roundsFor(v.kind) && !this.confirmed.has(key)) {
        this.confirmed.set(key, v);
        confirmed.push(v);
      }
    }
    return { confirmed, cleared };
  }

}
