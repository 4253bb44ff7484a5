/**
 * The shape of a runbook: a scenario builds an ordered list of steps; each step reads like
 * a line of the seed runbook and wraps one or more Actions, and a `parallel` group runs
 * independent steps at once. Checks (non-mutating steps) are the preconditions.
 *
 * The idempotency contract every action used in a step must keep, because resume relies
 * on it:
 * - `apply` may be called again after a crash at any point inside it, and then converges
 *   to the same effect (write the whole file, `SET` rather than `INCREMENT`, "start if not
 *   running", `CREATE TABLE IF NOT EXISTS`).
 * - `verify` changes nothing and passes exactly when the effect is there, so that after a
 *   crash the engine can ask "did it happen?" before applying again.
 * A step that has been verified is never applied again, in this run or a resumed one.
 */
import type { Action, ActionContext } from '../actions/action.ts';
import type { RoleChange } from '../fleet/role-changes.ts';
import type { Fleet } from '../fleet/schema.ts';

/** A runbook line: one or more actions applied in order, then verified in order. */
export interface ActionStep {
  readonly kind: 'step';
  readonly title: string;
  readonly machines: readonly string[];
  readonly mutating: boolean;
  readonly actions: readonly Action[];
  /** Fail the step (code `timeout`) and abort its context's signal after this long. */
  readonly timeoutMs?: number;
}

export interface StepOptions {
  /** A limit for the whole step (plan, apply and verify each get it); none by default. */
  timeoutMs?: number;
}

/** Independent steps that run at the same time; the run goes on when all are verified. */
export interface ParallelStep {
  readonly kind: 'parallel';
  readonly title: string;
  readonly machines: readonly string[];
  readonly mutating: boolean;
  readonly steps: readonly ActionStep[];
}

export type Step = ActionStep | ParallelStep;

/** What the operator (or the daemon) asked for. Never put a secret here: it is journaled. */
export interface ScenarioInput {
  /** The machine that failed, as named in the fleet file. */
  failed: string;
  /** A machine that takes over the failed one's role, when the scenario needs one. */
  replacement?: string;
  /** Act although the failure verdict is not `dead` (a person judged the split view). */
  force?: boolean;
  /** Promote a replica that stopped receiving; the window that is lost is recorded. */
  acceptDataLoss?: boolean;
  /** Machines a person confirmed are powered off (their singletons may start elsewhere). */
  confirmedFenced?: string[];
  [key: string]: unknown;
}

export interface Scenario<I extends ScenarioInput = ScenarioInput> {
  /** The name typed on the command line: `lifeboat recover primary-down`. */
  readonly name: string;
  /** One sentence: which failure this recovers from. */
  readonly describe: string;
  /**
   * Completes the input with decisions read from the fleet's current state (e.g. "the
   * backup is a replica: promote it"). Runs once per run, before it starts; the result is
   * journaled, so `build` gives the same steps when the run is resumed. Changes nothing.
   */
  resolve?(input: I, ctx: ActionContext): Promise<I>;
  /** The ordered steps for this input. Builds descriptions only; changes nothing. */
  build(input: I, ctx: ActionContext): readonly Step[] | Promise<readonly Step[]>;
  /** What a person still has to do after the run (buy a machine, re-issue a certificate…). */
  followUps?(input: I): readonly string[];
  /**
   * The fleet's roles once this run has recovered (who is the primary now, which machine is
   * out of service), from its journaled input: written into the fleet file by start.ts.
   */
  rolesAfter?(input: I, fleet: Fleet): readonly RoleChange[];
}

/** A step that changes things. `step(action)` takes the action's own title. */
export function step(title: string, actions: Action | readonly Action[], options?: StepOptions): ActionStep;
export function step(action: Action, options?: StepOptions): ActionStep;
export function step(
  titleOrAction: string | Action,
  actionsOrOptions?: Action | readonly Action[] | StepOptions,
  options?: StepOptions,
): ActionStep {
  if (typeof titleOrAction !== 'string') return wrap(titleOrAction.title, [titleOrAction], actionsOrOptions as StepOptions);
  const actions = actionsOrOptions as Action | readonly Action[] | undefined;
  const list = actions === undefined ? [] : isAction(actions) ? [actions] : [...actions];
  if (list.length === 0) throw new TypeError(`step "${titleOrAction}" wraps no action`);
  return wrap(titleOrAction, list, options);
}

/** What a check needs when it is not already an Action: resolve = healthy, throw = not. */
export interface CheckSpec {
  machines: readonly string[];
  verify(ctx: ActionContext): Promise<void>;
  /** What the check looks at, for `--plan`; defaults to a note with the title. */
  describe?: string;
}

/**
 * A precondition: never mutates, runs even under `--plan`, never asks for confirmation.
 * Throws if given a mutating action, because a check that changes things would run
 * unasked in plan mode.
 */
export function check(title: string, what: Action | CheckSpec, options: StepOptions = {}): ActionStep {
  const action: Action = isAction(what) ? what : checkAction(title, what);
  if (action.mutating) throw new TypeError(`check "${title}" wraps a mutating action "${action.title}"`);
  return wrap(title, [action], options);
}

/** Independent steps run at once: `parallel('Restart go-api, go-admin, go-fly', [...])`. */
export function parallel(title: string, steps: readonly (ActionStep | Action)[]): ParallelStep {
  if (steps.length === 0) throw new TypeError(`parallel group "${title}" has no steps`);
  const children = steps.map((s) => (isAction(s) ? step(s) : s));
  return {
    kind: 'parallel',
    title,
    machines: union(children.map((c) => c.machines)),
    mutating: children.some((c) => c.mutating),
    steps: children,
  };
}

/** A step can be undone when every action in it can. */
export function undoable(s: ActionStep): boolean {
  return s.mutating && s.actions.every((a) => typeof a.undo === 'function');
}

function wrap(title: string, actions: readonly Action[], options: StepOptions = {}): ActionStep {
  return {
    kind: 'step',
    title,
    machines: union(actions.map((a) => a.machines)),
    mutating: actions.some((a) => a.mutating),
    actions,
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  };
}

function checkAction(title: string, spec: CheckSpec): Action {
  return {
    title,
    machines: spec.machines,
    mutating: false,
    plan: async () => [{ kind: 'note', text: `check: ${spec.describe ?? title}` }],
    // A check's work is its verification; there is nothing to apply.
    apply: async () => {},
    verify: (ctx) => spec.verify(ctx),
  };
}

function isAction(value: unknown): value is Action {
  return typeof value === 'object' && value !== null && 'apply' in value && 'verify' in value && 'plan' in value;
}

function union(lists: readonly (readonly string[])[]): string[] {
  return [...new Set(lists.flat())];
}

/**
 * How steps are numbered for people: top-level steps 1, 2, 3 as in the runbook, the
 * steps of a parallel group 3.1, 3.2. Keys are journal indexes.
 */
export function stepLabels(rows: readonly { index: number; parent: number | null }[]): Map<number, string> {
  const labels = new Map<number, string>();
  const children = new Map<number, number>();
  let top = 0;
  for (const row of [...rows].sort((a, b) => a.index - b.index)) {
    if (row.parent === null) {
      labels.set(row.index, String(++top));
    } else {
      const k = (children.get(row.parent) ?? 0) + 1;
      children.set(row.parent, k);
      labels.set(row.index, `${labels.get(row.parent) ?? '?'}.${k}`);
    }
  }
  return labels;
}
