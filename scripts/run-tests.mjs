#!/usr/bin/env node
// Runs every *.test.ts under src/, bench/ and test/ with Node's built-in runner (through tsx).
// Node 20's runner does not glob .ts files itself, so the list is built here.
// --unit skips the tests that need root and the lab's Debian packages (files under test/).
//
// Two groups, one after the other:
// - files that start no lab (src/, bench/, and the files under test/ that run their own
//   servers on loopback: MariaDB, Redis, sshd, nginx, BIND…) run two at a time: they share
//   nothing (temp folders, free ports);
// - files that bring up a lab run one at a time: two labs on 2 cores make each other's
//   timings lie. A file brings up a lab when it asks `canRunLab()` (test/lab/helpers.ts) or
//   runs a drill (test/drills/drill.ts).
import { readdirSync, readFileSync, statSync } from 'node:fs';
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
const bringsUpLab = (file) => /\bcanRunLab\b|from '\.\/drill\.ts'/.test(readFileSync(file, 'utf8'));
const extra = process.argv.slice(2).filter((a) => a !== '--unit');
const run = (concurrency, files) => files.length === 0 ? 0 : spawnSync(process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...extra, ...files],
  { stdio: 'inherit' }).status ?? 1;
const machineTests = unitOnly ? [] : walk('test');
const alone = run(2, [...walk('src'), ...walk('bench'), ...machineTests.filter((f) => !bringsUpLab(f))]);
const lab = run(1, machineTests.filter(bringsUpLab));
process.exit(alone || lab);
