#!/usr/bin/env node
// Runs every *.test.ts under src/, bench/ and test/ with Node's built-in runner (through tsx).
// Node 20's runner does not glob .ts files itself, so the list is built here.
// --unit skips the tests that need root and the lab's Debian packages (files under test/).
// The unit files (src/, bench/) run two at a time: they start no lab and share nothing. The
// files under test/ run one at a time: each brings up its own lab or servers, and two labs
// on 2 cores make each other's timings lie.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const unitOnly = process.argv.includes('--unit');
function walk(dir, files = []) {
  let names;
  try { names = readdirSync(dir); } catch { return files; }
  for (const name of names.sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, files);
    else if (name.endsWith('.test.ts')) files.push(path);
  }
  return files;
}
const extra = process.argv.slice(2).filter((a) => a !== '--unit');
const run = (concurrency, files) => spawnSync(process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...extra, ...files],
  { stdio: 'inherit' }).status ?? 1;
const unit = run(2, [...walk('src'), ...walk('bench')]);
const lab = unitOnly ? 0 : run(1, walk('test'));
process.exit(unit || lab);
