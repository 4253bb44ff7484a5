/**
 * The runbook engine: runs a scenario's steps in order — plan, (confirm), apply, verify —
 * journaling every transition, stopping at the first failure, and resuming a run that a
 * crash, a failure or a "no" left unfinished.
 */
import type { ActionContext, Change } from '../actions/action.ts';
import { RemoteError } from '../remote/remote.ts';
import { type Journal, type RunMode, type RunRecord, type StepState } from './journal.ts';
import { describeFailure, errorMessage, LeafRunner, type Leaf, type LeafOutcome } from './execute.ts';
import { redactChange } from '../actions/redact-change.ts';
import { RecoveryError } from './errors.ts';
import { assertSamePlan, flatten, rowsOf, type Item } from './layout.ts';
import { stepLabels, type Scenario, type ScenarioInput, type Step } from './step.ts';

export { RecoveryError } from './errors.ts';

export type ConfirmAnswer = 'yes' | 'no' | 'all';
/** Asked before each mutating step in `confirm` mode; `all` stops asking for this run. */
export type ConfirmFn = (step: Step, changes: readonly Change[]) => Promise<ConfirmAnswer>;

export type ProgressEvent =
  | { type: 'run-started'; runId: string; scenario: string; mode: RunMode; resumed: boolean }
  | { type: 'group-started'; index: number; title: string }
  | { type: 'step-finished'; index: number; parent: number | null; title: string; outcome: StepProgress; ms: number; error?: string }
  | { type: 'group-finished'; index: number; title: string; ok: boolean; ms: number }
  | { type: 'run-finished'; run: RunRecord };

/** `done-before`: verified by an earlier process of this run; `already-there`: found applied on resume. */
export type StepProgress = 'verified' | 'failed' | 'planned' | 'skipped' | 'done-before' | 'already-there';

export interface RecoveryOptions<I extends ScenarioInput = ScenarioInput> {
  scenario: Scenario<I>;
  /** Ignored when resuming: the run's journaled input is used, so the steps are the same. */
  input: I;
  ctx: ActionContext;
  mode: RunMode;
  journal: Journal;
  /** Required in `confirm` mode (the CLI passes a TTY prompt). */
  confirm?: ConfirmFn;
  resumeRunId?: string;
  /** Under `plan`, run the checks too (they change nothing). Default true. */
  runChecksInPlan?: boolean;
  /** Started by the daemon's policy, not a person: counts for the cool-down. */
  automatic?: boolean;
  /**
   * One recovery at a time across lifeboats: taken before the first mutating step (a run
   * refused by its checks holds nothing), released when the run recovers.
   */
  guard?: RunGuard;
  /**
   * On resume: input fields a person adds now (e.g. `confirmedFenced`); they may change
   * what a step does, never which steps there are.
   */
  amend?: Partial<I>;
  onProgress?: (event: ProgressEvent) => void;
}

export interface RunGuard {
  /** Throws (naming the other run) when another recovery holds one of `machines`. */
  acquire(runId: string, machines: readonly string[]): Promise<void>;
  release(): Promise<void>;
}

type Stop = { outcome: 'failed' | 'aborted'; error: string } | undefined;

export async function runRecovery<I extends ScenarioInput>(options: RecoveryOptions<I>): Promise<RunRecord> {
  const { scenario, ctx, mode, journal } = options;
  const emit = options.onProgress ?? (() => {});
  if (mode === 'confirm' && !options.confirm) throw new RecoveryError('confirm-missing', 'confirm mode needs a confirm prompt');

  if (mode === 'plan' && options.resumeRunId !== undefined) {
    // A plan ends its run as `planned`, which would make the stopped run unresumable.
    throw new RecoveryError('plan-on-resume', 'a stopped run cannot be resumed in plan mode; `lifeboat runs show` lists what is left');
  }
  const resumed = options.resumeRunId === undefined ? undefined : journal.run(options.resumeRunId);
  if (resumed && resumed.scenario !== scenario.name) {
    throw new RecoveryError('scenario-mismatch', `run ${resumed.id} is a ${resumed.scenario} run, not ${scenario.name}`);
  }
  // Decisions a scenario takes from the fleet's state (promote or restore?) are made once,
  // before the run starts, and journaled with the input: a resumed run replays them.
  const input = resumed
    ? ({ ...(resumed.input as I), ...(options.amend ?? {}) } as I)
    : ((await scenario.resolve?.(options.input, ctx)) ?? options.input);
  const items = flatten(await scenario.build(input, ctx));
  const rows = items.flatMap(rowsOf);
  const labels = stepLabels(rows);
  const name = (index: number, title: string) => `step ${labels.get(index)} "${title}"`;
  let runId: string;
  const states = new Map<number, StepState>();
  if (resumed) {
    assertSamePlan(resumed, rows);
    journal.reopenRun(resumed.id, mode);
    runId = resumed.id;
    if (options.amend && Object.keys(options.amend).length > 0) journal.amendInput(runId, input);
    for (const s of resumed.steps) states.set(s.index, s.state);
  } else {
    runId = journal.createRun({
      scenario: scenario.name, input, mode, fleet: ctx.fleet?.name, automatic: options.automatic,
      followUps: scenario.followUps?.(input) ?? [], steps: rows,
    });
  }
  emit({ type: 'run-started', runId, scenario: scenario.name, mode, resumed: resumed !== undefined });

  const runner = new LeafRunner(journal, runId, ctx);
  const runChecks = options.runChecksInPlan ?? true;
  let confirmedAll = false;
  let guarded = false;
  // The machines this run changes; the failed machine is fenced, not marked (it may be gone).
  const marked = [...new Set(rows.filter((r) => r.mutating).flatMap((r) => r.machines))].filter((m) => m !== input.failed);
  let stop: Stop;
  const planProblems: string[] = [];
  const finishLeaf = (leaf: Leaf, outcome: StepProgress, ms: number, error?: string) =>
    emit({ type: 'step-finished', index: leaf.index, parent: leaf.parent, title: leaf.step.title, outcome, ms, error });

  try {
    for (const item of items) {
      if (ctx.signal?.aborted) {
        stop = { outcome: 'aborted', error: `stopped before ${name(item.index, item.step.title)}: cancelled` };
        break;
      }
      const todo = item.leaves.filter((l) => states.get(l.index) !== 'verified');
      if (item.step.kind === 'parallel') emit({ type: 'group-started', index: item.index, title: item.step.title });
      for (const leaf of item.leaves) if (!todo.includes(leaf)) finishLeaf(leaf, 'done-before', 0);
      if (todo.length === 0) {
        // Killed after the last child was verified but before the group's own row was.
        if (item.step.kind === 'parallel' && states.get(item.index) !== 'verified' && mode !== 'plan') {
          journal.stepState(runId, item.index, 'verified');
        }
        continue;
      }

      const changes: Change[] = [];
      let planFailure: string | undefined;
      const unplanned = new Set<Leaf>();
      // Under --plan nothing before this step has run: a step that edits a file an earlier
      // step creates cannot show its diff yet, and a check after a mutating step verifies an
      // effect that is not there. Both are planned, not failed; any other refusal still fails.
      const afterMutation = mode === 'plan' && items.slice(0, items.indexOf(item)).some((i) => i.step.mutating);
      for (const leaf of todo) {
        try {
          changes.push(...(await runner.plan(leaf)));
        } catch (error) {
          if (afterMutation && causedByMissingFile(error)) {
            journal.stepPlanned(runId, leaf.index, [{ kind: 'note', text: `its exact changes are known once the steps before it have run (now: ${errorMessage(error)})` }]);
            continue;
          }
          const failure = runner.planFailed(leaf, error);
          unplanned.add(leaf);
          finishLeaf(leaf, 'failed', 0, failure.message);
          planFailure ??= `${name(leaf.index, leaf.step.title)} could not be planned: ${failure.message}`;
        }
      }
      if (mode === 'plan') {
        if (planFailure) planProblems.push(planFailure);
        if (item.step.mutating || !runChecks || planFailure || afterMutation) {
          for (const leaf of todo) if (!unplanned.has(leaf)) finishLeaf(leaf, 'planned', 0);
          continue;
        }
        const failed = await executeItem(item, todo);
        if (failed) planProblems.push(failed);
        continue;
      }
      if (planFailure) {
        stop = { outcome: 'failed', error: planFailure };
        break;
      }
      if (item.step.mutating && options.guard && !guarded) {
        try {
          await options.guard.acquire(runId, marked);
          guarded = true;
          journal.event(runId, null, 'marked', marked.join(', '));
        } catch (error) {
          stop = { outcome: 'failed', error: errorMessage(error) };
          break;
        }
      }
      if (item.step.mutating && mode === 'confirm' && !confirmedAll) {
        const answer = await options.confirm!(item.step, changes.map(redactChange));
        journal.event(runId, item.index, 'confirm', answer);
        if (answer === 'all') confirmedAll = true;
        if (answer === 'no') {
          for (const leaf of todo) {
            journal.stepState(runId, leaf.index, 'skipped');
            finishLeaf(leaf, 'skipped', 0);
          }
          if (item.step.kind === 'parallel') journal.stepState(runId, item.index, 'skipped');
          stop = { outcome: 'aborted', error: `declined at ${name(item.index, item.step.title)}` };
          break;
        }
      }
      const failed = await executeItem(item, todo);
      if (failed) {
        // A step that failed because the run was cancelled under it: the run was stopped, not broken.
        stop = { outcome: ctx.signal?.aborted ? 'aborted' : 'failed', error: failed };
        break;
      }
    }
  } catch (error) {
    // An error of lifeboat itself (journal, prompt): record it, and leave the run resumable.
    journal.finishRun(runId, 'failed', `stopped by an internal error: ${describeFailure(error, 'internal', undefined).message}`);
    throw error;
  }

  if (mode === 'plan') journal.finishRun(runId, 'planned', planProblems.length ? planProblems.join('; ') : undefined);
  else if (stop) journal.finishRun(runId, stop.outcome, stop.error);
  else {
    journal.finishRun(runId, 'recovered');
    await options.guard?.release();
  }
  const run = journal.run(runId);
  emit({ type: 'run-finished', run });
  return run;

  /** Runs the leaves of one item (at once for a group); returns the first error, if any. */
  async function executeItem(item: Item, todo: Leaf[]): Promise<string | undefined> {
    const group = item.step.kind === 'parallel';
    if (group) journal.stepState(runId, item.index, 'applying', { start: true });
    const started = performance.now();
    const outcomes = await Promise.all(
      todo.map(async (leaf): Promise<[Leaf, LeafOutcome]> => {
        const outcome = await runner.execute(leaf, states.get(leaf.index) ?? 'pending');
        states.set(leaf.index, outcome.state);
        finishLeaf(leaf, outcome.ok ? (outcome.alreadyThere ? 'already-there' : 'verified') : 'failed', outcome.ms,
          outcome.ok ? undefined : outcome.error.message);
        return [leaf, outcome];
      }),
    );
    const failures = outcomes.filter(([, o]) => !o.ok);
    if (group) {
      journal.stepState(runId, item.index, failures.length ? 'failed' : 'verified');
      emit({ type: 'group-finished', index: item.index, title: item.step.title, ok: failures.length === 0, ms: performance.now() - started });
    }
    if (failures.length === 0) return undefined;
    return failures
      .map(([leaf, o]) => `${name(leaf.index, leaf.step.title)} failed: ${o.ok ? '' : o.error.message}`)
      .join('; ');
  }
}

function causedByMissingFile(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof RemoteError && e.code === 'file-not-found') return true;
  }
  return false;
}
