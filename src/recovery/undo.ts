/**
 * Puts back what a stopped run changed, newest step first, using each action's `undo`.
 * Refuses when a step that changed things cannot be undone (undoing the steps before it
 * would leave the fleet in a state no runbook describes) unless `partial` is asked for.
 */
import type { ActionContext } from '../actions/action.ts';
import { Deadline } from './deadline.ts';
import { RecoveryError } from './errors.ts';
import { describeFailure } from './execute.ts';
import { isActive, JournalError, type Journal, type RunRecord, type StepState } from './journal.ts';
import { assertSamePlan, flatten, rowsOf } from './layout.ts';
import { stepLabels, type Scenario, type ScenarioInput } from './step.ts';

export interface UndoOptions<I extends ScenarioInput = ScenarioInput> {
  scenario: Scenario<I>;
  ctx: ActionContext;
  journal: Journal;
  runId: string;
  /** Undo what can be undone even if some changed steps cannot be. */
  partial?: boolean;
}

/** Steps in these states may have changed the world. */
const TOUCHED: ReadonlySet<StepState> = new Set(['applying', 'applied', 'verified', 'failed']);

export async function undoRun<I extends ScenarioInput>(options: UndoOptions<I>): Promise<RunRecord> {
  const { scenario, ctx, journal } = options;
  const run = journal.run(options.runId);
  if (run.scenario !== scenario.name) {
    throw new RecoveryError('scenario-mismatch', `run ${run.id} is a ${run.scenario} run, not ${scenario.name}`);
  }
  if (isActive(run)) throw new JournalError('run-active', `run ${run.id} is still being run by process ${run.owner}`);
  if (run.outcome === 'planned' || run.outcome === 'undone') {
    throw new JournalError('not-resumable', `run ${run.id} ${run.outcome === 'planned' ? 'was only a plan' : 'was already undone'}`);
  }
  const items = flatten(await scenario.build(run.input as I, ctx));
  assertSamePlan(run, items.flatMap(rowsOf));
  const labels = stepLabels(run.steps);
  const leaves = items.flatMap((i) => i.leaves).reverse();
  const state = new Map(run.steps.map((s) => [s.index, s.state]));
  const touched = leaves.filter((l) => l.step.mutating && TOUCHED.has(state.get(l.index) ?? 'pending'));
  const stuck = touched.filter((l) => !l.step.actions.every((a) => typeof a.undo === 'function'));
  if (stuck.length && !options.partial) {
    throw new RecoveryError('not-undoable',
      `run ${run.id} cannot be undone: ${stuck.map((l) => `step ${labels.get(l.index)} "${l.step.title}"`).join(', ')} cannot be undone`);
  }
  journal.event(run.id, null, 'undo-started', stuck.length ? `partial: ${stuck.length} step(s) stay as they are` : undefined);
  for (const leaf of touched) {
    if (stuck.includes(leaf)) {
      journal.event(run.id, leaf.index, 'not-undoable');
      continue;
    }
    const deadline = new Deadline(leaf.step.timeoutMs, ctx.signal);
    try {
      for (const action of [...leaf.step.actions].reverse()) await deadline.run(action.undo!({ ...ctx, signal: deadline.signal }));
      journal.stepState(run.id, leaf.index, 'undone');
    } catch (error) {
      const failure = describeFailure(error, 'undo-failed', undefined);
      journal.event(run.id, leaf.index, 'undo-failed', failure.message);
      journal.finishRun(run.id, 'failed', `undo stopped at step ${labels.get(leaf.index)} "${leaf.step.title}": ${failure.message}`);
      return journal.run(run.id);
    } finally {
      deadline.dispose();
    }
  }
  for (const item of items) {
    if (item.step.kind === 'parallel' && item.leaves.some((l) => touched.includes(l) && !stuck.includes(l))) {
      journal.stepState(run.id, item.index, 'undone');
    }
  }
  journal.finishRun(run.id, 'undone', stuck.length ? `${stuck.length} step(s) could not be undone` : undefined);
  return journal.run(run.id);
}
