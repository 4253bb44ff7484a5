/**
 * Steps that act on the fleet as it will be, within a run on the fleet as it is: a recovery
 * that builds a new standby runs `prepare`'s steps for the fleet where the spare already holds
 * the failed machine's roles (the fleet file says so only once the run has recovered). Each
 * action sees that fleet in its context; everything else of the context is the run's.
 */
import type { Action, ActionContext } from '../actions/action.ts';
import type { Fleet } from '../fleet/schema.ts';
import type { ActionStep, Step } from './step.ts';

function asFleetAction(fleet: Fleet, a: Action): Action {
  const ctxFor = (ctx: ActionContext): ActionContext => ({ ...ctx, fleet });
  return {
    title: a.title,
    machines: a.machines,
    mutating: a.mutating,
    plan: (ctx) => a.plan(ctxFor(ctx)),
    apply: (ctx) => a.apply(ctxFor(ctx)),
    verify: (ctx) => a.verify(ctxFor(ctx)),
    ...(a.undo ? { undo: (ctx: ActionContext) => a.undo!(ctxFor(ctx)) } : {}),
  };
}

function asFleetStep(fleet: Fleet, s: ActionStep): ActionStep {
  return { ...s, actions: s.actions.map((a) => asFleetAction(fleet, a)) };
}

export function asFleet(fleet: Fleet, steps: readonly Step[]): Step[] {
  return steps.map((s) => (s.kind === 'step' ? asFleetStep(fleet, s) : { ...s, steps: s.steps.map((x) => asFleetStep(fleet, x)) }));
}
