/**
 * How a scenario's steps map to journal rows: top-level steps and parallel groups in
 * order, a group's row first and then its children, each with a stable index.
 */
import { RecoveryError } from './errors.ts';
import type { Leaf } from './execute.ts';
import type { RunRecord, StepInit } from './journal.ts';
import { redactText } from '../util/redact.ts';
import { undoable, type Step } from './step.ts';

export interface Item {
  index: number;
  step: Step;
  leaves: Leaf[];
}

/** Numbers steps in journal order: a parallel group's row comes first, then its children. */
export function flatten(steps: readonly Step[]): Item[] {
  const items: Item[] = [];
  let index = 0;
  for (const step of steps) {
    const itemIndex = index++;
    if (step.kind === 'step') {
      items.push({ index: itemIndex, step, leaves: [{ index: itemIndex, parent: null, step }] });
    } else {
      const leaves = step.steps.map((child) => ({ index: index++, parent: itemIndex, step: child }));
      items.push({ index: itemIndex, step, leaves });
    }
  }
  return items;
}

export function rowsOf(item: Item): StepInit[] {
  const rows: StepInit[] = item.leaves.map((leaf) => ({
    index: leaf.index, parent: leaf.parent, title: leaf.step.title, machines: leaf.step.machines,
    mutating: leaf.step.mutating, undoable: undoable(leaf.step),
  }));
  if (item.step.kind === 'parallel') {
    rows.unshift({
      index: item.index, parent: null, title: item.step.title, machines: item.step.machines,
      mutating: item.step.mutating, undoable: item.step.steps.every(undoable),
    });
  }
  return rows;
}

/** Resume must run the very steps that were journaled, or "skip the verified ones" lies. */
export function assertSamePlan(run: RunRecord, rows: StepInit[]): void {
  const journaled = run.steps.map((s) => `${s.index}:${s.parent}:${s.title}`);
  const built = rows.map((r) => `${r.index}:${r.parent}:${redactText(r.title)}`);
  if (journaled.join('\n') !== built.join('\n')) {
    throw new RecoveryError('plan-changed',
      `run ${run.id} was journaled with different steps than the ${run.scenario} scenario builds now; start a new run`);
  }
}
