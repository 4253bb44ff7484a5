#!/usr/bin/env node
// Runs every *.test.ts under src/, bench/ and test/ with Node's built-in runner (through tsx).
// Node 20's runner does not glob .ts files itself, so the list is built here.
// --unit skips the tests that need root and the lab's Debian packages (files under test/).
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const unitOnly = process.argv.includes('--unit');
const roots = unitOnly ? ['src', 'bench'] : ['src', 'bench', 'test'];
const files = [];
function walk(dir) {
  let names;
  try { names = readdirSync(dir); } catch { return; }
  for (const name of names.sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (name.endsWith('.test.ts')) files.push(path);
  }
}
roots.forEach(walk);
const extra = process.argv.slice(2).filter((a) => a !== '--unit');
const result = spawnSync(process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=1', ...extra, ...files],
  { stdio: 'inherit' });
process.exit(result.status ?? 1);
