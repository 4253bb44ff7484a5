/**
 * The daemon's metrics as Prometheus reads them: served over HTTP by the same server
 * `lifeboat serve --listen` runs, and accepted by `promtool check metrics` (Debian's
 * prometheus package) with no problem reported.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { serveApi } from '../../src/control/http-api.ts';
import { WatchMetrics } from '../../src/control/metrics.ts';
import type { Verdict } from '../../src/health/verdict.ts';

function promtool(text: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
    child.stdin.end(text);
  });
}

test('the metrics are served on /metrics and pass promtool check metrics', async () => {
  const metrics = new WatchMetrics();
  const verdict: Verdict = {
    machine: 'core', address: '192.0.2.21', kind: 'dead', reason: 'core is down', judgedAt: '', seenBy: [],
    views: [{ vantage: 'operator', seen: 'down', checks: [] }, { vantage: 'gw-a', seen: 'down', checks: [] }, { vantage: 'vault', seen: 'unknown', checks: [] }],
  };
  metrics.observeRound([verdict], 1.7);
  metrics.observeEvent({ at: '', type: 'incident-opened', machine: 'core', scenario: 'primary-down', failed: 'core', why: '' });
  metrics.observeEvent({ at: '', type: 'decision', scenario: 'primary-down', failed: 'core', policy: 'auto', action: 'started', detail: '' });
  metrics.observeEvent({ at: '', type: 'recovery-finished', runId: 'r1', scenario: 'primary-down', outcome: 'recovered', seconds: 14.2 });
  metrics.observeEvent({ at: '', type: 'blocked', kind: 'ip-blocked', target: 'gw-a', reason: '', policy: 'notify', evidence: [] });
  metrics.watchUsersSide(() => [{ probe: 'office', ageS: 2.54 }]);
  metrics.observeEvent({ at: '', type: 'condition', kind: 'disk-full', target: 'core:/data', reason: '', policy: 'notify', evidence: [] });
  metrics.observeBinlogCopies([
    { store: 'vault', state: 'caught-up', behindSeconds: 0, detail: '' },
    { store: 'far', state: 'behind', behindSeconds: 12, detail: '' },
    { store: 'empty', state: 'behind', detail: '' },
    { store: 'odd', state: 'unknown', detail: '' },
  ]);
  const server = await serveApi({ metrics }, '127.0.0.1', 0);
  try {
    const port = (server.address() as AddressInfo).port;
    const response = await fetch(`http://127.0.0.1:${port}/metrics`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /text\/plain/);
    const text = await response.text();
    assert.match(text, /^lifeboat_verdict\{machine="core",kind="dead"\} 1$/m);
    assert.match(text, /^lifeboat_vantage_seen\{machine="core",vantage="vault"\} -1$/m);
    assert.match(text, /^lifeboat_recoveries_total\{scenario="primary-down",outcome="recovered"\} 1$/m);
    assert.match(text, /^lifeboat_recovery_seconds_sum\{scenario="primary-down"\} 14\.2$/m);
    assert.match(text, /^lifeboat_blocked\{kind="ip-blocked",target="gw-a"\} 1$/m);
    assert.match(text, /^lifeboat_condition\{kind="disk-full",target="core:\/data"\} 1$/m);
    assert.match(text, /^lifeboat_users_side_report_age_seconds\{probe="office"\} 2\.5$/m);
    assert.match(text, /^lifeboat_binlog_copy_behind_seconds\{store="vault"\} 0$/m);
    assert.match(text, /^lifeboat_binlog_copy_behind_seconds\{store="far"\} 12$/m);
    assert.match(text, /^lifeboat_binlog_copy_behind_seconds\{store="empty"\} \+Inf$/m);
    assert.match(text, /^lifeboat_binlog_copy_behind_seconds\{store="odd"\} -1$/m);
    const checked = await promtool(text);
    assert.equal(checked.code, 0, checked.out);
    assert.equal(checked.out.trim(), '', `promtool reports: ${checked.out}`);
    assert.equal((await fetch(`http://127.0.0.1:${port}/nothing`)).status, 404);
  } finally {
    server.close();
  }
});

test('the Grafana dashboard in examples/ asks only for metrics the daemon exports', async () => {
  const dashboard = JSON.parse(await readFile(new URL('../../examples/grafana/lifeboat-dashboard.json', import.meta.url), 'utf8')) as { panels: Array<{ targets: Array<{ expr: string }> }> };
  const exported = (await new WatchMetrics().text()).match(/^# TYPE (\S+)/gm)!.map((l) => l.slice('# TYPE '.length));
  const asked = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)).flatMap((e) => e.match(/lifeboat_[a-z_]+/g) ?? []);
  assert.ok(asked.length >= 7);
  for (const name of asked) assert.ok(exported.some((m) => name === m || name.startsWith(`${m}_`)), `${name} is not exported`);
});
