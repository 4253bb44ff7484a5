/**
 * The contract of every building block a recovery or `prepare` step is made of. An action
 * can always describe itself before it runs (that is what `--plan` prints), checks its own
 * effect for real after it ran, and says whether it changes anything.
 */
import type { Fleet } from '../fleet/schema.ts';
import type { Remote } from '../remote/remote.ts';
import { redactChange } from './redact-change.ts';

/** One concrete thing an action would do, shown verbatim by `--plan`. */
export type Change =
  | { kind: 'command'; machine: string; command: string }
  | { kind: 'sql'; machine: string; sql: string; params: unknown[] }
  | { kind: 'file'; machine: string; path: string; diff: string }
  | { kind: 'note'; machine?: string; text: string };

/** What actions get to reach the world; nothing deep in the logic reads globals. */
export interface ActionContext {
  fleet: Fleet;
  /** The connection to a machine of the fleet (reused across actions). */
  remote(machine: string): Remote;
  /**
   * The machine reached through another machine of the fleet (an SSH jump), for fencing a
   * machine the operator cannot reach but a vantage point can. Absent where jumps are not
   * possible; the machine's host key is still checked.
   */
  remoteVia?(machine: string, via: string): Remote | undefined;
  /** Resolves a `env:`/`file:` secret reference to its value; never log the result. */
  secret(ref: string): Promise<string>;
  /** Progress lines for people; never pass secrets. */
  log(message: string): void;
  signal?: AbortSignal;
}

export interface Action {
  /** Reads like a line of the runbook: "Remove primary from the edges' upstreams". */
  readonly title: string;
  readonly machines: readonly string[];
  /** False for checks: they run even under `--plan` and never ask for confirmation. */
  readonly mutating: boolean;
  /** The exact commands, SQL and file diffs `apply` would run. Changes nothing. */
  plan(ctx: ActionContext): Promise<Change[]>;
  apply(ctx: ActionContext): Promise<void>;
  /** Throws unless the effect is really there. A step that cannot verify must fail. */
  verify(ctx: ActionContext): Promise<void>;
  /** Puts things back as they were, where that is possible. */
  undo?(ctx: ActionContext): Promise<void>;
}

export class ActionError extends Error {
  override name = 'ActionError';
  constructor(
    readonly code: 'precondition' | 'apply-failed' | 'verify-failed' | 'undo-failed' | 'not-supported',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A change as a person reads it; secrets masked here, whoever shows it (plans, prompts, `backup restore`). */
export function renderChange(shown: Change): string {
  const change = redactChange(shown);
  switch (change.kind) {
    case 'command':
      return `[${change.machine}] $ ${change.command}`;
    case 'sql':
      return `[${change.machine}] SQL ${change.sql}${change.params.length ? `  -- params: ${JSON.stringify(change.params)}` : ''}`;
    case 'file':
      return `[${change.machine}] edit ${change.path}\n${change.diff}`;
    case 'note':
      return `${change.machine ? `[${change.machine}] ` : ''}${change.text}`;
  }
}
