/**
 * The lifeboat repository's own folder, found from this file whether it runs from source
 * (src/util/) or from a bundle (.lifeboat-build/): the first folder upwards that holds
 * package.json. Files shipped beside the code (examples, SQL) are found from here.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

export function repoDir(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 10; i++) {
    if (existsSync(join(dir, 'package.json'))) return (cached = dir);
    dir = dirname(dir);
  }
  throw new Error('cannot find the lifeboat repository (package.json) above this module');
}

export function repoPath(...segments: string[]): string {
  return join(repoDir(), ...segments);
}
