#!/usr/bin/env node
// The published entry point runs the TypeScript sources through tsx, so there is no build
// step to forget before a drill at 3 a.m.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
