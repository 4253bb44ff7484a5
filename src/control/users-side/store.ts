/**
 * The newest report of each users'-side probe, as the daemon received it. A report older than
 * three of the probes' intervals is stale: it is not evidence any more, and a daemon with no
 * fresh report says so instead of reading "nothing blocked" into the silence.
 */
import type { UsersSideReport } from '../../health/reachability.ts';
import type { ProbeReport } from './protocol.ts';

export class UsersSideStore {
  private readonly latest = new Map<string, UsersSideReport>();
  /** Grows with every report: the daemon evaluates again only when something new arrived. */
  generation = 0;

  constructor(private readonly staleMs: number, private readonly now: () => number = Date.now) {}

  add(report: ProbeReport): void {
    this.latest.set(report.probe, { ...report, receivedAt: this.now() });
    this.generation++;
  }

  fresh(): UsersSideReport[] {
    const since = this.now() - this.staleMs;
    return [...this.latest.values()].filter((r) => r.receivedAt >= since).sort((a, b) => a.probe.localeCompare(b.probe));
  }

  /** Every probe ever heard from, with the age of its newest report in seconds. */
  ages(): Array<{ probe: string; ageS: number }> {
    return [...this.latest.values()].map((r) => ({ probe: r.probe, ageS: (this.now() - r.receivedAt) / 1000 }));
  }
}
