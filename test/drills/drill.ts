/**
 * Runs one drill through the real CLI (`lifeboat drill NAME --json`), on a lab of its own,
 * and checks the report against what the runbook promises for that scenario.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { DrillReport } from '../../src/lab/drill/run-drill.ts';

const cli = new URL('../../bin/lifeboat.mjs', import.meta.url).pathname;

/** `fleet`: a fleet file other than the CLI's default (the seed's example fleet). */
export async function drill(t: TestContext, name: string, fleet?: string, extra: string[] = []): Promise<DrillReport> {
  const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    // The drill's figures go to a state file of the test's own, not the operator's.
    const state = join(mkdtempSync(join(tmpdir(), 'lifeboat-drill-state-')), 'state.db');
    t.after(() => rmSync(join(state, '..'), { recursive: true, force: true }));
    execFile(process.execPath, [cli, 'drill', name, '--json', '--state', state, ...(fleet ? ['--fleet', fleet] : []), ...extra], { timeout: 15 * 60_000, maxBuffer: 64 << 20 }, (error, out, err) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout: out, stderr: err });
    });
  });
  let report: DrillReport;
  try {
    report = JSON.parse(stdout) as DrillReport;
  } catch {
    assert.fail(`drill ${name} printed no JSON report (exit ${code}):\n${stderr.slice(-3000)}`);
  }
  t.diagnostic(`${name}${report.auto ? ` --auto: detect ${report.detectSeconds} s,` : ':'} rto ${report.rtoSeconds} s, recover ${report.recoverSeconds} s, lost writes ${report.lostWrites}, lost uploads ${report.lostUploads}, double job runs ${report.doubleJobRuns}`);
  for (const s of report.steps) t.diagnostic(`  ${String(s.seconds ?? '').padStart(6)} ${s.outcome} ${s.title}`);
  assert.deepEqual(report.problems, [], `drill ${name} reported problems`);
  assert.equal(report.ok, true);
  assert.equal(code, 0, 'a passing drill exits 0');
  assert.equal(report.scenario, name);
  assert.ok(report.rtoSeconds !== null && report.rtoSeconds > 0, 'users were served again after the fault');
  assert.equal(report.doubleJobRuns, 0);
  assert.ok(report.traffic.ok > 0 && report.steps.length > 0);
  assert.ok(report.steps.every((s) => s.outcome === 'verified'), 'every step verified');
  return report;
}

/** `--capture` into a folder of the test's own, removed after it. */
export function wireCaptureArgs(t: TestContext): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'lifeboat-wire-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return ['--capture', join(dir, 'switch.pcap')];
}

/**
 * What the capture of the lab's switch shows: no secret of the lab and none of the values
 * planted in MariaDB and Redis in clear text, though they crossed (the seed copy, replication,
 * lifeboat's reads), and clear HTTP in it (the capture holds payloads at all).
 */
export function assertNothingInClear(report: DrillReport): void {
  const wire = report.wire;
  assert.ok(wire, 'the report has the capture');
  assert.ok(wire.controlSeen, 'the capture holds clear HTTP: it can see clear text');
  assert.deepEqual(wire.secretsInClear, [], 'no MariaDB, Redis or other lab secret in clear text');
  assert.ok(wire.markersPlanted >= 2, 'markers were planted before and after prepare');
  assert.equal(wire.markersInClear, 0, 'no planted row or key in clear text');
  const flows = Object.values(wire.flows);
  assert.ok(flows.reduce((n, f) => n + f.encrypted, 0) > 0, 'database traffic crossed, encrypted');
  assert.equal(flows.reduce((n, f) => n + f.clear, 0), 0, `no connection to a database port spoke in clear: ${JSON.stringify(wire.clearSamples)}`);
}
