/** Turns whatever a driver library throws into an ActionError with the step's code. */
import { ActionError } from './action.ts';

/**
 * Runs `work`; an error that is not already an ActionError becomes one with `code`, its
 * message prefixed by `context` (e.g. the machine), and the original kept as `cause`.
 */
export async function asActionError<T>(code: ActionError['code'], context: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof ActionError) throw error;
    throw new ActionError(code, `${context}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}
