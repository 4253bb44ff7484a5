/**
 * A check that belongs to the step before it: "the replica acknowledges", "a first sync
 * pass completed". As a separate check step it would run under `--plan` and fail there
 * (nothing was applied yet); inside the mutating step it runs as that step's verification.
 */
import type { Action } from '../actions/action.ts';
import type { CheckSpec } from '../recovery/step.ts';

export function postCondition(title: string, spec: CheckSpec): Action {
  return {
    title,
    machines: spec.machines,
    mutating: false,
    // Nothing to show: the step's title already says what is checked after it.
    plan: async () => [],
    apply: async () => {},
    verify: (ctx) => spec.verify(ctx),
  };
}
