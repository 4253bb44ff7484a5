/**
 * What a prepare run changed (or, under `--plan`, would change), read back from its journal:
 * a step changed something when its plan held a command, an SQL statement or a file diff.
 */
import type { RunRecord, StepRecord } from '../recovery/journal.ts';

export interface PrepareReport {
  /** Steps whose plan held real changes, by title. */
  changed: string[];
  /** Mutating steps that found their part already in place. */
  unchanged: string[];
  failed: string[];
}

export function stepChanged(s: StepRecord): boolean {
  return s.changes.some((c) => c.kind !== 'note');
}

export function prepareReport(run: RunRecord): PrepareReport {
  const parents = new Set(run.steps.map((s) => s.parent).filter((p): p is number => p !== null));
  // A parallel group's own row carries no plan; its children do.
  const leaves = run.steps.filter((s) => !parents.has(s.index));
  return {
    changed: leaves.filter((s) => s.mutating && stepChanged(s)).map((s) => s.title),
    unchanged: leaves.filter((s) => s.mutating && !stepChanged(s) && s.state !== 'failed').map((s) => s.title),
    failed: leaves.filter((s) => s.state === 'failed').map((s) => s.title),
  };
}

export function renderPrepareReport(run: RunRecord, report: PrepareReport): string {
  const planning = run.mode === 'plan';
  if (report.failed.length) {
    const resume = planning ? '' : `\nafter fixing the cause: lifeboat prepare --resume ${run.id} (or run prepare again: every step is idempotent)`;
    return `prepare stopped: ${report.failed.length} step(s) failed (${report.failed.join('; ')})${resume}\n`;
  }
  if (report.changed.length === 0) return 'nothing to change: the fleet is already in its prepared state\n';
  const verb = planning ? 'would change' : 'changed';
  return `${verb} ${report.changed.length} of ${report.changed.length + report.unchanged.length} step(s):\n${report.changed.map((t) => `  - ${t}`).join('\n')}\n`;
}
