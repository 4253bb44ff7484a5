import { ActionError } from '../action.ts';

/** Re-throws `error` as an ActionError with `code`, naming `what` failed; ActionErrors pass unchanged. */
export function rethrowAs(error: unknown, code: ActionError['code'], what: string): never {
  if (error instanceof ActionError) throw error;
  const detail = error instanceof Error ? error.message : String(error);
  throw new ActionError(code, `${what}: ${detail}`, { cause: error });
}
