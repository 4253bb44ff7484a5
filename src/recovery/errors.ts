/** Errors of the runbook engine itself (not of the actions it runs), each with a code. */

export class RecoveryError extends Error {
  override name = 'RecoveryError';
  constructor(
    readonly code: 'confirm-missing' | 'scenario-mismatch' | 'plan-changed' | 'plan-on-resume' | 'not-undoable',
    message: string,
  ) {
    super(message);
  }

  /** The CLI's exit code: 2 when the operator asked for something impossible, 3 for a bug. */
  get exitCode(): number {
    return this.code === 'confirm-missing' ? 3 : 2;
  }
}

/**
 * A scenario's decision could not be made safely: the state it depends on could not be read,
 * or acting on it would lose acknowledged writes without the operator saying so. Nothing has
 * been changed when it is thrown (decisions come before the first step). Exit 1.
 */
export class DecisionError extends Error {
  override name = 'DecisionError';
  readonly exitCode = 1;
  constructor(
    readonly code: 'state-unreadable' | 'data-at-risk' | 'run-in-progress',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
