/** Exit codes shared by every command, and how an error maps to one. */
import { ActionError } from '../actions/action.ts';
import { FleetError } from '../fleet/errors.ts';
import { SecretError } from '../fleet/secrets.ts';
import { CertError } from '../certs/acme.ts';

export const EXIT = { ok: 0, unhealthy: 1, badInput: 2, internal: 3 } as const;

/** Errors that mean "the operator asked for something wrong": exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export function exitCodeFor(error: unknown): number {
  // A secret the fleet or a flag names but this machine does not have is a setting to fix.
  if (error instanceof UsageError || error instanceof FleetError || error instanceof SecretError) return EXIT.badInput;
  // A precondition that fails before any step ran (a scenario refusing its input) is bad
  // input; an action failing inside a run is reported by the run itself.
  if (error instanceof ActionError && error.code === 'precondition') return EXIT.badInput;
  // A fleet file that does not say how certificates are made is a setting to fix; the CA or DNS failing is not.
  if (error instanceof CertError) return error.code === 'bad-input' ? EXIT.badInput : EXIT.unhealthy;
  if (error instanceof Error && 'exitCode' in error && typeof error.exitCode === 'number') return error.exitCode;
  return EXIT.internal;
}

export function renderError(error: unknown): string {
  if (error instanceof FleetError) return error.render();
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `\n  caused by: ${error.cause.message}` : '';
    return `error: ${error.message}${cause}`;
  }
  return `error: ${String(error)}`;
}
