/**
 * Runs one drill through the real CLI (`lifeboat drill NAME --json`), on a lab of its own,
 * and checks the report against what the runbook promises for that scenario.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import type { TestContext } from 'node:test';
import type { DrillReport } from '../../src/lab/drill/run-drill.ts';

const cli = new URL('../../bin/lifeboat.mjs', import.meta.url).pathname;

/** `fleet`: a fleet file other than the CLI's default (the seed's example fleet). */
export async function drill(t: TestContext, name: string, fleet?: string, extra: string[] = []): Promise<DrillReport> {
  const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [cli, 'drill', name, '--json', ...(fleet ? ['--fleet', fleet] : []), ...extra], { timeout: 15 * 60_000, maxBuffer: 64 << 20 }, (error, out, err) => {
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
