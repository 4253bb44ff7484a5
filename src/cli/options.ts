/** Options several commands share, resolved the same way everywhere. */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from './exit.ts';

export const DEFAULT_FLEET_FILE = 'fleet.yaml';
export const FLEET_HELP = `fleet file (default: $LIFEBOAT_FLEET, else ./${DEFAULT_FLEET_FILE})`;

/** Every command names its fleet file the same way: `-f, --fleet FILE`. */
export function fleetOption(command: Command, help = FLEET_HELP): Command {
  return command.option('-f, --fleet <file>', help);
}

/**
 * The fleet file given as an argument, as lifeboat once took it: still accepted where it was
 * (crontabs installed from `backup schedule` name it so), with a warning, and never together
 * with a different --fleet.
 */
export function legacyFleetArgument(command: Command): Command {
  return command.argument('[file]', 'deprecated: the fleet file, as --fleet names it');
}

/**
 * The fleet file: --fleet (or the deprecated argument), else $LIFEBOAT_FLEET, else
 * ./fleet.yaml. With none of them given and no ./fleet.yaml, says where it looked.
 */
export function fleetFileOf(
  options: { fleet?: string },
  legacy?: string,
  { env = process.env, warn = (line: string) => process.stderr.write(`${line}\n`), fallback }: {
    env?: NodeJS.ProcessEnv;
    warn?: (line: string) => void;
    /** Used when nothing names a fleet and there is no ./fleet.yaml (drills: the example fleet). */
    fallback?: string;
  } = {},
): string {
  if (legacy !== undefined && options.fleet !== undefined && legacy !== options.fleet) {
    throw new UsageError(`two fleet files given: ${legacy} and --fleet ${options.fleet}`);
  }
  if (legacy !== undefined && options.fleet === undefined) {
    warn(`lifeboat: a fleet file named without --fleet is deprecated and will stop working; write --fleet ${legacy}`);
  }
  const given = options.fleet ?? legacy ?? env.LIFEBOAT_FLEET;
  if (given !== undefined) return given;
  if (!existsSync(DEFAULT_FLEET_FILE)) {
    if (fallback !== undefined) return fallback;
    throw new UsageError(`no fleet file: none given with --fleet, $LIFEBOAT_FLEET is not set, and there is no ./${DEFAULT_FLEET_FILE} (looked for ${resolve(DEFAULT_FLEET_FILE)})`);
  }
  return DEFAULT_FLEET_FILE;
}

/** lifeboat's own state (journal of runs): --state, else $LIFEBOAT_STATE, else ~/.lifeboat/state.db. */
export function stateFileFrom(argument: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return argument ?? env.LIFEBOAT_STATE ?? join(homedir(), '.lifeboat', 'state.db');
}
