/**
 * The cool-down after an automatic recovery (orchestrator refuses a new one for an hour,
 * MHA for eight): the daemon must not fail over again and again on a flapping fleet. A
 * person lifts the block by acknowledging the last run.
 */
import type { Journal, RunSummary } from './journal.ts';

/** The newest run the daemon's policy started, whatever its outcome. */
export function lastAutomaticRecovery(journal: Journal): RunSummary | undefined {
  return journal.runs({ automatic: true, limit: 1 })[0];
}

/** Records that `by` (a person's name) has seen run `runId`; accepts a unique id prefix. */
export function acknowledge(journal: Journal, runId: string, by: string, comment?: string): void {
  journal.acknowledge(runId, by, comment);
}

export type CooldownVerdict =
  | { blocked: false }
  | { blocked: true; run: RunSummary; until: number; message: string };

/**
 * Whether an automatic recovery may start at `now`: not while the last automatic run
 * is younger than `cooldownMs` and nobody acknowledged it.
 */
export function cooldown(journal: Journal, now: number, cooldownMs: number): CooldownVerdict {
  const last = lastAutomaticRecovery(journal);
  if (!last) return { blocked: false };
  const until = last.startedAt + cooldownMs;
  if (now >= until) return { blocked: false };
  if (journal.run(last.id).acknowledgements.length > 0) return { blocked: false };
  return {
    blocked: true,
    run: last,
    until,
    message: `an automatic ${last.scenario} recovery (run ${last.id}) started ${Math.round((now - last.startedAt) / 1000)} s ago; ` +
      `no automatic recovery until ${new Date(until).toISOString()} unless a person runs \`lifeboat runs ack ${last.id}\``,
  };
}
