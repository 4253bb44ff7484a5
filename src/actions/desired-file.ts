/**
 * "This file on that machine holds exactly this text": the building block of every
 * configuration `prepare` owns (my.cnf drop-ins, the sync script, its supervisor program,
 * the pinned host key). Written with a backup and an atomic rename, shown as a diff by
 * `--plan`, nothing written when it already matches.
 */
import { posix } from 'node:path';
import { ActionError, type Action, type ActionContext, type Change } from './action.ts';
import { redactConfigText } from '../util/redact.ts';
import { unifiedDiff } from './text-diff.ts';
import { RemoteError, runChecked, shq, type Remote } from '../remote/remote.ts';

export interface DesiredFile {
  machine: string;
  path: string;
  /** The whole file, or a function of the current text (to edit a file that is not ours). */
  content: string | ((current: string | undefined) => string | Promise<string>);
  /** Mode of a new file; an existing file keeps its own. */
  mode?: number;
  /** Hides secrets in the plan's diff lines; default masks password-like keys and DSNs. */
  mask?: (line: string) => string;
}

export async function readIfExists(remote: Remote, path: string): Promise<string | undefined> {
  try {
    return (await remote.readFile(path)).toString('utf8');
  } catch (error) {
    if (error instanceof RemoteError && error.code === 'file-not-found') return undefined;
    throw error;
  }
}

/** What the file should hold now, with what it holds. */
export async function fileDelta(ctx: ActionContext, file: DesiredFile): Promise<{ before: string | undefined; after: string }> {
  const before = await readIfExists(ctx.remote(file.machine), file.path);
  const after = typeof file.content === 'string' ? file.content : await file.content(before);
  return { before, after };
}

export function fileChange(file: DesiredFile, before: string | undefined, after: string): Change[] {
  if (before === after) return [];
  const diff = unifiedDiff(before ?? '', after, { path: file.path, mapLine: file.mask ?? redactConfigText });
  return [{ kind: 'file', machine: file.machine, path: file.path, diff: before === undefined ? `(new file)\n${diff}` : diff }];
}

/** Writes the file when it differs; returns true when it wrote. */
export async function writeDesired(ctx: ActionContext, file: DesiredFile): Promise<boolean> {
  const { before, after } = await fileDelta(ctx, file);
  if (before === after) return false;
  const remote = ctx.remote(file.machine);
  await runChecked(remote, `mkdir -p ${shq(posix.dirname(file.path))}`);
  await remote.writeFile(file.path, after, { backup: true, ...(file.mode === undefined ? {} : { mode: file.mode }) });
  return true;
}

export async function verifyDesired(ctx: ActionContext, file: DesiredFile): Promise<void> {
  const { before, after } = await fileDelta(ctx, file);
  if (before !== after) {
    throw new ActionError('verify-failed', `${file.machine}: ${file.path} ${before === undefined ? 'is missing' : 'does not hold what lifeboat wrote'}`);
  }
}

/** A step's action for one desired file; `then` runs after a write (e.g. a reload). */
export function desiredFile(title: string, file: DesiredFile, then?: (ctx: ActionContext) => Promise<void>, thenPlan?: Change[]): Action {
  return {
    title,
    machines: [file.machine],
    mutating: true,
    async plan(ctx) {
      const { before, after } = await fileDelta(ctx, file);
      const changes = fileChange(file, before, after);
      return changes.length ? [...changes, ...(thenPlan ?? [])] : [];
    },
    async apply(ctx) {
      if ((await writeDesired(ctx, file)) && then) await then(ctx);
    },
    verify: (ctx) => verifyDesired(ctx, file),
  };
}
