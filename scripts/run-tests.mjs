#!/usr/bin/env node
// Runs every *.test.ts under src/, bench/ and test/ with Node's built-in runner (through tsx).
// Node 20's runner does not glob .ts files itself, so the list is built here.
// --unit skips the tests that need root and the lab's Debian packages (files under test/).
//
// Two groups, one after the other:
// - the unit files (src/, bench/) run two at a time: they start no server and share nothing;
// - the files under test/ run one at a time: those that bring up a lab (two labs on 2 cores
//   make each other's timings lie), and those with their own loopback MariaDB, Redis, sshd,
//   nginx, BIND or supervisord too: run two at a time they failed now and then (a scratch
//   MariaDB's bootstrap crashed beside another file's servers; a stand-in's sessions were not
//   there yet when its test flushed Redis), and a suite that passes only sometimes proves
//   nothing.
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
const run = (concurrency, files) => files.length === 0 ? 0 : spawnSync(process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...extra, ...files],
  { stdio: 'inherit' }).status ?? 1;
const unit = run(2, [...walk('src'), ...walk('bench')]);
const machine = unitOnly ? 0 : run(1, walk('test'));
process.exit(unit || machine);
