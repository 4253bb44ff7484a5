/**
 * Resolves secret references (`env:NAME`, `file:/path`) at the moment they are needed.
 * The values never enter the fleet model, logs, plans or journals.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

export class SecretError extends Error {
  override name = 'SecretError';
  constructor(
    readonly code: 'env-missing' | 'file-unreadable' | 'bad-reference',
    readonly ref: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export type SecretResolver = (ref: string) => Promise<string>;

/** A resolver reading the given environment; `file:` paths may be relative to `baseDir`. */
export function secretResolver(env: NodeJS.ProcessEnv, baseDir = process.cwd()): SecretResolver {
  const cache = new Map<string, Promise<string>>();
  return (ref) => {
    let value = cache.get(ref);
    if (!value) {
      value = resolveSecret(ref, env, baseDir);
      cache.set(ref, value);
    }
    return value;
  };
}

async function resolveSecret(ref: string, env: NodeJS.ProcessEnv, baseDir: string): Promise<string> {
  if (ref.startsWith('env:')) {
    const name = ref.slice(4);
    const value = env[name];
    if (value === undefined) {
      throw new SecretError('env-missing', ref, `secret ${ref}: environment variable ${name} is not set`);
    }
    return value;
  }
  if (ref.startsWith('file:')) {
    const path = resolve(baseDir, ref.slice(5));
    try {
      return (await readFile(path, 'utf8')).replace(/\r?\n$/, '');
    } catch (cause) {
      throw new SecretError('file-unreadable', ref, `secret ${ref}: cannot read ${path}`, { cause });
    }
  }
  throw new SecretError('bad-reference', ref, `not a secret reference (expected env:NAME or file:/path)`);
}

export function secretBaseDir(fleetFile: string): string {
  return dirname(resolve(fleetFile));
}
