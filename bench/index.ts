/**
 * `npm run bench [-- NAME…]`: measured claims, run on this machine. Benches: `restore`
 * (bench/restore.ts; `--rows N`, default 1,048,576), `probes` (bench/probes.ts; `--targets
 * N`, default 5,000, `--interval S`, default 10, `--seconds S`, default 30) and `failover`
 * (bench/failover/; lifeboat beside MHA and Redis Sentinel on lab replicas of `--fleet FILE`,
 * default the go-speed example, `--runs N` each, default 3; needs root, as the lab does).
 * No name runs them all; `--json` prints the raw figures.
 */
import { benchFailover, renderFailoverBench } from './failover/index.ts';
import { benchProbes, renderProbeBench } from './probes.ts';
import { benchRestore, renderRestoreBench } from './restore.ts';

const BENCHES = ['restore', 'probes', 'failover'] as const;

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) {
    process.stderr.write(`${name} expects a positive number\n`);
    process.exit(2);
  }
  return value;
}

const named = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !(all[i - 1] ?? '').startsWith('--'));
for (const n of named) {
  if (!(BENCHES as readonly string[]).includes(n)) {
    process.stderr.write(`unknown bench ${n} (benches: ${BENCHES.join(', ')})\n`);
    process.exit(2);
  }
}
const chosen = named.length > 0 ? named : [...BENCHES];
const json = process.argv.includes('--json');
const log = (line: string) => process.stderr.write(`${line}\n`);
const results: Record<string, unknown> = {};

if (chosen.includes('restore')) {
  const minRows = option('--rows', 1_048_576);
  if (!Number.isInteger(minRows)) {
    process.stderr.write('--rows expects a whole number\n');
    process.exit(2);
  }
  const r = await benchRestore({ minRows, log });
  results.restore = r;
  if (!json) process.stdout.write(renderRestoreBench(r));
}
if (chosen.includes('probes')) {
  const r = await benchProbes({ targets: Math.floor(option('--targets', 5000)), intervalS: option('--interval', 10), seconds: option('--seconds', 30), log });
  results.probes = r;
  if (!json) process.stdout.write(renderProbeBench(r));
}
if (chosen.includes('failover')) {
  const runs = option('--runs', 3);
  if (!Number.isInteger(runs) || runs > 20) {
    process.stderr.write('--runs expects a whole number from 1 to 20\n');
    process.exit(2);
  }
  const i = process.argv.indexOf('--fleet');
  const fleetFile = i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : new URL('../examples/go-speed/fleet.yaml', import.meta.url).pathname;
  const r = await benchFailover({ fleetFile, runs, log });
  results.failover = r;
  if (!json) process.stdout.write(renderFailoverBench(r));
}
if (json) process.stdout.write(JSON.stringify(results, null, 2) + '\n');
