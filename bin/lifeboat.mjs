#!/usr/bin/env node
// lifeboat's entry point. It runs a bundle of the TypeScript sources (built with esbuild
// into .lifeboat-build/ whenever a source is newer than it, in about a second) because a
// recovery should not start by compiling TypeScript: the bundle starts several times
// faster. Where the repository is read-only (inside a lab host) and the bundle is stale,
// it runs the sources through tsx instead. There is no build step to forget.
import { existsSync, mkdirSync, readdirSync, renameSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bundle = join(root, '.lifeboat-build', 'cli.mjs');

function newest(dir) {
  let time = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    time = Math.max(time, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return time;
}

async function freshBundle() {
  if (process.env.LIFEBOAT_NO_BUNDLE) return undefined;
  const sourcesTime = Math.max(newest(join(root, 'src')), statSync(join(root, 'package.json')).mtimeMs);
  if (existsSync(bundle) && statSync(bundle).mtimeMs >= sourcesTime) return bundle;
  try {
    const { build } = await import('esbuild');
    mkdirSync(dirname(bundle), { recursive: true });
    // Built beside and renamed into place: a CLI started at the same moment never reads half a file.
    const temp = `${bundle}.${process.pid}.tmp`;
    await build({
      entryPoints: [join(root, 'src', 'cli', 'main.ts')],
      outfile: temp,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      logLevel: 'silent',
    });
    renameSync(temp, bundle);
    return bundle;
  } catch {
    return undefined; // read-only checkout or no esbuild: the sources still run
  }
}

const entry = await freshBundle();
let main;
if (entry) {
  ({ main } = await import(pathToFileURL(entry).href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
process.exitCode = await main(process.argv);
