/** Options several commands share, resolved the same way everywhere. */
import { homedir } from 'node:os';
import { join } from 'node:path';

export const DEFAULT_FLEET_FILE = 'fleet.yaml';

/** The fleet file: the argument, else $LIFEBOAT_FLEET, else ./fleet.yaml. */
export function fleetFileFrom(argument: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return argument ?? env.LIFEBOAT_FLEET ?? DEFAULT_FLEET_FILE;
}

/** lifeboat's own state (journal of runs): --state, else $LIFEBOAT_STATE, else ~/.lifeboat/state.db. */
export function stateFileFrom(argument: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return argument ?? env.LIFEBOAT_STATE ?? join(homedir(), '.lifeboat', 'state.db');
}
