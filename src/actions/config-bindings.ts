/**
 * Points the services' own config files at a new MySQL/Redis address (runbook §4.3 step 5).
 * Each fleet binding names a file, its format and which key holds what; only those values
 * change, and the plan shows a unified diff with passwords masked.
 */
import type { Binding } from '../fleet/schema.ts';
import { ActionError, type Action, type ActionContext, type Change } from './action.ts';
import { configFormats, ConfigFormatError } from './config-formats/index.ts';
import { nextValue, readEndpoint, type BindingTarget } from './binding-values.ts';
import { redactConfigText, redactText } from '../util/redact.ts';
import { unifiedDiff } from './text-diff.ts';

export type { BindingTarget } from './binding-values.ts';

/** The file's text with every key of `binding` pointed at `target`. Pure. */
export function renderBinding(text: string, binding: Binding, target: BindingTarget): string {
  const format = configFormats[binding.format];
  let next = text;
  for (const [key, kind] of Object.entries(binding.keys)) {
    const current = format.get(next, key);
    if (current === undefined) throw new ConfigFormatError('key-missing', `${binding.file}: ${key} is not in the file`);
    const value = nextValue(kind, current, target);
    if (value !== undefined && value !== current) next = format.set(next, key, value);
  }
  return next;
}

/**
 * What the file currently says about MySQL and Redis. When keys disagree (the host in a DSN
 * differs from a separate host key), the first key in the binding wins and `consistent` is false.
 */
export function readBinding(text: string, binding: Binding): { target: BindingTarget; consistent: boolean } {
  const format = configFormats[binding.format];
  const target: BindingTarget = {};
  let consistent = true;
  const put = (field: keyof BindingTarget, value: string | number | undefined) => {
    if (value === undefined) return;
    if (target[field] === undefined) (target as Record<string, unknown>)[field] = value;
    else if (target[field] !== value) consistent = false;
  };
  for (const [key, kind] of Object.entries(binding.keys)) {
    const endpoint = readEndpoint(kind, format.get(text, key));
    const mysql = kind.startsWith('mysql');
    put(mysql ? 'mysqlHost' : 'redisHost', endpoint.host);
    put(mysql ? 'mysqlPort' : 'redisPort', endpoint.port);
  }
  return { target, consistent };
}

/** True when every field `target` names is what the file says. */
export function bindingMatches(text: string, binding: Binding, target: BindingTarget): boolean {
  return renderBinding(text, binding, target) === text;
}

function wrap(error: unknown, code: ActionError['code'], file: string): never {
  if (error instanceof ActionError) throw error;
  throw new ActionError(code, `${file}: ${error instanceof Error ? redactText(error.message) : String(error)}`, { cause: error });
}

/** Rewrites the bindings' files on `machine` so the services reach MySQL/Redis at `target`. */
export function rewriteBindings(machine: string, bindings: readonly Binding[], target: BindingTarget): Action {
  const previous = new Map<string, string>();
  const describe = [
    target.mysqlHost !== undefined || target.mysqlPort !== undefined ? `MySQL at ${target.mysqlHost ?? '(same host)'}:${target.mysqlPort ?? '(same port)'}` : '',
    target.redisHost !== undefined || target.redisPort !== undefined ? `Redis at ${target.redisHost ?? '(same host)'}:${target.redisPort ?? '(same port)'}` : '',
  ].filter(Boolean).join(' and ');

  async function readText(ctx: ActionContext, file: string): Promise<string> {
    return (await ctx.remote(machine).readFile(file)).toString('utf8');
  }

  return {
    title: `Point ${[...new Set(bindings.map((b) => b.service))].join(', ')} on ${machine} at ${describe || 'their current addresses'}`,
    machines: [machine],
    mutating: true,
    async plan(ctx) {
      const changes: Change[] = [];
      for (const binding of bindings) {
        try {
          const before = await readText(ctx, binding.file);
          const after = renderBinding(before, binding, target);
          const diff = unifiedDiff(before, after, { path: binding.file, mapLine: redactConfigText });
          changes.push(diff ? { kind: 'file', machine, path: binding.file, diff } : { kind: 'note', machine, text: `${binding.file} already points there` });
        } catch (error) {
          wrap(error, 'precondition', binding.file);
        }
      }
      return changes;
    },
    async apply(ctx) {
      for (const binding of bindings) {
        let before: string;
        let after: string;
        try {
          before = await readText(ctx, binding.file);
          after = renderBinding(before, binding, target);
        } catch (error) {
          wrap(error, 'precondition', binding.file);
        }
        if (after === before) continue; // already done: applying twice changes nothing
        if (!previous.has(binding.file)) previous.set(binding.file, before);
        try {
          await ctx.remote(machine).writeFile(binding.file, after, { backup: true });
        } catch (error) {
          wrap(error, 'apply-failed', binding.file);
        }
        ctx.log(`${machine}: rewrote ${binding.file}`);
      }
    },
    async verify(ctx) {
      for (const binding of bindings) {
        let text: string;
        try {
          text = await readText(ctx, binding.file);
        } catch (error) {
          wrap(error, 'verify-failed', binding.file);
        }
        let matches = false;
        try {
          matches = bindingMatches(text, binding, target);
        } catch (error) {
          wrap(error, 'verify-failed', binding.file);
        }
        if (!matches) {
          const { target: found } = readBinding(text, binding);
          throw new ActionError('verify-failed', `${machine}:${binding.file} still says ${JSON.stringify(found)}`);
        }
      }
    },
    async undo(ctx) {
      if (previous.size === 0) {
        throw new ActionError('undo-failed', `nothing recorded to undo on ${machine}: rewrite the bindings to the old address instead`);
      }
      for (const [file, text] of previous) {
        try {
          await ctx.remote(machine).writeFile(file, text, { backup: true });
        } catch (error) {
          wrap(error, 'undo-failed', file);
        }
      }
      previous.clear();
    },
  };
}
