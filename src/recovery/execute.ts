/**
 * Runs one runbook line against the world: plan, then apply every action, then verify
 * every action, journaling each transition before it happens so a crash leaves a state
 * that resume can trust. Never throws for an action's failure: it returns it.
 */
import { ActionError, type Action, type ActionContext, type Change } from '../actions/action.ts';
import type { Journal, StepFailure, StepState } from './journal.ts';
import { Deadline } from './deadline.ts';
import type { ActionStep } from './step.ts';

export interface Leaf {
  index: number;
  /** Index of the parallel group row, or null for a top-level step. */
  parent: number | null;
  step: ActionStep;
}

export type LeafOutcome =
  | { ok: true; state: 'verified'; ms: number; alreadyThere: boolean }
  | { ok: false; state: 'failed'; ms: number; error: StepFailure };

/** Journal states from which the effect may already be there (the process stopped mid-step). */
const INTERRUPTED: ReadonlySet<StepState> = new Set(['applying', 'applied', 'failed']);

export class LeafRunner {
  constructor(
    private readonly journal: Journal,
    private readonly runId: string,
    private readonly ctx: ActionContext,
  ) {}

  async plan(leaf: Leaf): Promise<Change[]> {
    const deadline = new Deadline(leaf.step.timeoutMs, this.ctx.signal);
    try {
      const ctx = this.stepContext(leaf.index, deadline.signal);
      const changes: Change[] = [];
      for (const action of leaf.step.actions) changes.push(...(await deadline.run(action.plan(ctx))));
      this.journal.stepPlanned(this.runId, leaf.index, changes);
      return changes;
    } finally {
      deadline.dispose();
    }
  }

  /** Records a step that could not even be planned. */
  planFailed(leaf: Leaf, error: unknown): StepFailure {
    const failure = describeFailure(error, 'plan-failed', undefined);
    this.journal.stepState(this.runId, leaf.index, 'failed', { error: failure, start: true });
    return failure;
  }

  /**
   * Applies and verifies. A step left `applying`/`applied`/`failed` by an earlier process
   * is verified first, action by action, and only the actions whose effect is missing are
   * applied again; this relies on the idempotency contract in step.ts.
   */
  async execute(leaf: Leaf, previous: StepState): Promise<LeafOutcome> {
    const deadline = new Deadline(leaf.step.timeoutMs, this.ctx.signal);
    try {
      return await this.executeWithin(leaf, previous, deadline);
    } finally {
      deadline.dispose();
    }
  }

  private async executeWithin(leaf: Leaf, previous: StepState, deadline: Deadline): Promise<LeafOutcome> {
    const ctx = this.stepContext(leaf.index, deadline.signal);
    const started = performance.now();
    const elapsed = () => Math.round((performance.now() - started) * 100) / 100;
    let toApply = leaf.step.actions;
    if (INTERRUPTED.has(previous)) {
      this.journal.event(this.runId, leaf.index, 'reverify', `was ${previous}`);
      toApply = await this.missingEffects(leaf, ctx, deadline);
      if (toApply.length === 0) {
        this.journal.stepState(this.runId, leaf.index, 'verified', { start: true });
        return { ok: true, state: 'verified', ms: elapsed(), alreadyThere: true };
      }
    }
    let phase: 'apply' | 'verify' = 'apply';
    let current = leaf.step.actions[0]?.title;
    try {
      this.journal.stepState(this.runId, leaf.index, 'applying', { start: true });
      for (const action of toApply) {
        current = action.title;
        await deadline.run(action.apply(ctx));
      }
      this.journal.stepState(this.runId, leaf.index, 'applied');
      phase = 'verify';
      for (const action of leaf.step.actions) {
        current = action.title;
        await deadline.run(action.verify(ctx));
      }
      this.journal.stepState(this.runId, leaf.index, 'verified');
      return { ok: true, state: 'verified', ms: elapsed(), alreadyThere: false };
    } catch (error) {
      const failure = describeFailure(error, phase === 'apply' ? 'apply-failed' : 'verify-failed',
        current === leaf.step.title ? undefined : current);
      this.journal.stepState(this.runId, leaf.index, 'failed', { error: failure });
      return { ok: false, state: 'failed', ms: elapsed(), error: failure };
    }
  }

  /** The actions of an interrupted step whose effect is not there (to apply again). */
  private async missingEffects(leaf: Leaf, ctx: ActionContext, deadline: Deadline): Promise<Action[]> {
    const missing: Action[] = [];
    for (const action of leaf.step.actions) {
      try {
        await deadline.run(action.verify(ctx));
      } catch (error) {
        this.journal.event(this.runId, leaf.index, 'reverify-missing', `${action.title}: ${errorMessage(error)}`);
        missing.push(action);
      }
    }
    return missing;
  }

  /** The caller's context, with the step's log lines also kept in its journal row. */
  private stepContext(index: number, signal: AbortSignal): ActionContext {
    const { ctx, journal, runId } = this;
    return {
      ...ctx,
      signal,
      remote: (machine) => ctx.remote(machine),
      secret: (ref) => ctx.secret(ref),
      log: (message) => {
        journal.stepOutput(runId, index, message);
        ctx.log(message);
      },
    };
  }
}

export function describeFailure(error: unknown, fallbackCode: string, actionTitle: string | undefined): StepFailure {
  const code = error instanceof ActionError ? error.code : errorCode(error) ?? fallbackCode;
  const message = errorMessage(error);
  return { code, message: actionTitle ? `${actionTitle}: ${message}` : message };
}

export function errorMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error && error.cause.message !== error.message ? ` (cause: ${error.cause.message})` : '';
  return `${error.message}${cause}`;
}

function errorCode(error: unknown): string | undefined {
  if (error && typeof error === 'object' && 'code' in error && typeof error.code === 'string') return error.code;
  return undefined;
}
