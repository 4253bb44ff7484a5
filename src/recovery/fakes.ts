/**
 * Fake actions for tests of the engine and of scenarios: each writes one marker file in a
 * folder, so its effect is real, visible across processes, and countable (every apply
 * appends its name to `applications.log`). Not used by lifeboat itself.
 */
import { appendFileSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ActionError, type Action, type ActionContext } from '../actions/action.ts';
import type { Fleet } from '../fleet/schema.ts';

export interface FakeFileOptions {
  machine?: string;
  /** Throw from apply (before writing anything). */
  failApply?: () => boolean;
  /** Make verify fail although the file is there. */
  failVerify?: () => boolean;
  /** Called at named moments, e.g. to crash a child process there. */
  hook?: (moment: 'before-apply' | 'after-apply' | 'verify', name: string) => void | Promise<void>;
  /** Extra work in apply (e.g. wait for a sibling, to prove parallelism). */
  during?: () => Promise<void>;
  withUndo?: boolean;
}

export function fakeFileAction(dir: string, name: string, options: FakeFileOptions = {}): Action {
  const path = join(dir, name);
  const machine = options.machine ?? 'fake';
  const action: Action = {
    title: `Write ${name}`,
    machines: [machine],
    mutating: true,
    plan: async () => [{ kind: 'file', machine, path, diff: `+${name} done` }],
    async apply(ctx) {
      await options.hook?.('before-apply', name);
      if (options.failApply?.()) throw new ActionError('apply-failed', `cannot write ${name}`);
      appendFileSync(join(dir, 'applications.log'), `${name}\n`);
      await options.during?.();
      // Atomic like the real actions: a crash leaves the old file or the new one.
      writeFileSync(`${path}.tmp`, `${name} done\n`);
      renameSync(`${path}.tmp`, path);
      ctx.log(`wrote ${name}`);
      await options.hook?.('after-apply', name);
    },
    async verify() {
      await options.hook?.('verify', name);
      if (!existsSync(path) || options.failVerify?.()) throw new ActionError('verify-failed', `${name} is not there`);
    },
  };
  if (options.withUndo) action.undo = async () => rmSync(path, { force: true });
  return action;
}

/** A non-mutating check that passes while `ok()` is true. */
export function fakeCheck(name: string, ok: () => boolean, machine = 'fake'): Action {
  return {
    title: `Check ${name}`,
    machines: [machine],
    mutating: false,
    plan: async () => [{ kind: 'note', machine, text: `check ${name}` }],
    apply: async () => {},
    async verify() {
      if (!ok()) throw new ActionError('precondition', `${name} is not healthy`);
    },
  };
}

/** How many times each fake was applied, from `applications.log`. */
export function applicationCounts(dir: string): Map<string, number> {
  const counts = new Map<string, number>();
  const path = join(dir, 'applications.log');
  if (!existsSync(path)) return counts;
  for (const line of readFileSync(path, 'utf8').split('\n').filter(Boolean)) counts.set(line, (counts.get(line) ?? 0) + 1);
  return counts;
}

/** A context for fakes: no machine can be reached and no secret resolved. */
export function fakeContext(lines: string[] = [], signal?: AbortSignal): ActionContext {
  return {
    fleet: { name: 'fake-fleet' } as Fleet,
    remote: (machine) => {
      throw new Error(`fake context has no remote for ${machine}`);
    },
    secret: async (ref) => {
      throw new Error(`fake context has no secret ${ref}`);
    },
    log: (message) => void lines.push(message),
    signal,
  };
}
