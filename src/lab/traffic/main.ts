/**
 * Traffic generator CLI, run on the lab's client host (or anywhere that resolves the domains):
 *   node --import tsx src/lab/traffic/main.ts --urls http://a.example.com,http://b.example.com \
 *     --seconds 30 --rate 20 --out /tmp/traffic.jsonl [--max-requests N] [--timeout-ms 1000] [--plan JSON]
 * `--plan` says which services and operations to use (generator.ts `TrafficPlan`, built from a
 * fleet by plan.ts); without it, the seed's whole mix.
 * Prints a one-line JSON summary when done; the records are in --out.
 */
import { parseArgs } from 'node:util';
import { runTraffic, type TrafficPlan } from './generator.ts';

const LIMITS = { seconds: 3600, rate: 500 };

function positive(name: string, text: string | undefined, max: number): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || n > max) {
    process.stderr.write(`--${name}: expected a number in (0, ${max}]\n`);
    process.exit(2);
  }
  return n;
}

const { values } = parseArgs({
  options: {
    urls: { type: 'string' },
    seconds: { type: 'string' },
    rate: { type: 'string' },
    out: { type: 'string' },
    'max-requests': { type: 'string' },
    'timeout-ms': { type: 'string' },
    plan: { type: 'string' },
  },
});
let plan: TrafficPlan | undefined;
if (values.plan) {
  try {
    plan = JSON.parse(values.plan) as TrafficPlan;
  } catch {
    process.stderr.write('--plan: expected JSON\n');
    process.exit(2);
  }
}
if (!values.urls || !values.out) {
  process.stderr.write('usage: main.ts --urls URL[,URL...] --seconds N --rate R --out FILE [--max-requests N] [--timeout-ms MS]\n');
  process.exit(2);
}
const summary = await runTraffic({
  urls: values.urls.split(',').map((u) => u.trim()).filter(Boolean),
  seconds: positive('seconds', values.seconds, LIMITS.seconds),
  rate: positive('rate', values.rate, LIMITS.rate),
  out: values.out,
  ...(plan ? { plan } : {}),
  ...(values['max-requests'] ? { maxRequests: positive('max-requests', values['max-requests'], 1e7) } : {}),
  ...(values['timeout-ms'] ? { timeoutMs: positive('timeout-ms', values['timeout-ms'], 60_000) } : {}),
});
process.stdout.write(`${JSON.stringify(summary)}\n`);
