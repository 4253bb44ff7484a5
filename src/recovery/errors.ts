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
