/**
 * The stand-ins run as one pre-built JavaScript file, not through tsx: the real services
 * are Go binaries that start in milliseconds, and a restart in a drill should cost what a
 * restart costs in production, not a TypeScript compile (≈1 s of CPU per process here).
 * Built with esbuild (tsx's own compiler) into the repository's build folder, which lab
 * hosts see read-only at /lifeboat; npm packages stay external and resolve from node_modules.
 */
import { build } from 'esbuild';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const BUNDLE_DIR = '.lifeboat-build';
export const BUNDLE_FILE = 'standins.mjs';

function newestSource(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = statSync(path);
    newest = Math.max(newest, stat.isDirectory() ? newestSource(path) : stat.mtimeMs);
  }
  return newest;
}

/** Builds the bundle when it is missing or older than the stand-ins' sources; returns its path. */
export async function ensureStandInBundle(repoDir: string): Promise<string> {
  const out = join(repoDir, BUNDLE_DIR, BUNDLE_FILE);
  // The generic stand-in reads config files with lifeboat's own readers (src/actions), so
  // any source may be in the bundle.
  const sources = join(repoDir, 'src');
  if (existsSync(out) && statSync(out).mtimeMs >= newestSource(sources)) return out;
  await build({
    entryPoints: [join(sources, 'lab', 'apps', 'main.ts')],
    outfile: out,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'error',
  });
  return out;
}
