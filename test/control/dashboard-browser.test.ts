/**
 * The dashboard in a browser, on the lab: Debian's chromium driven by playwright-core runs in
 * the client host (dashboard-browser.script.ts) against `lifeboat serve --listen` in ops, the
 * fleet prepared, `primary-down` under the confirm policy. The browser logs in and sees the
 * fleet green; the lab kills the primary; the open page shows the incident and the plan
 * without a reload; the browser clicks Approve; the run's steps appear live and end
 * `recovered`; the grid shows the standby as the primary. The screenshots stay in
 * test-artifacts/dashboard/.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startDaemon, waitForEvents, type DaemonHandle } from '../../src/lab/drill/daemon.ts';
import { Lab } from '../../src/lab/lab.ts';
import { REPO_IN_HOST } from '../../src/lab/paths.ts';
import { canRunLab, EXAMPLE_FLEET, forceDown, randomLabId } from '../lab/helpers.ts';

const skip = canRunLab() || (existsSync('/usr/bin/chromium') ? false : 'needs Debian\'s chromium');
const ARTIFACTS = new URL('../../test-artifacts/dashboard/', import.meta.url).pathname;
const CLI = `cd ${REPO_IN_HOST} && node bin/lifeboat.mjs`;
const OUT = '/tmp/dashboard-browser';

describe('the dashboard in a browser', { skip }, () => {
  const id = randomLabId();
  let lab: Lab;
  let daemon: DaemonHandle | undefined;

  before(async () => {
    lab = await Lab.up({ id, fleetFile: EXAMPLE_FLEET });
    const prepared = await lab.exec('ops', `${CLI} prepare --fleet ${lab.fleetFile} --yes --state /tmp/prepare-state.db`, { timeoutMs: 600_000 });
    assert.equal(prepared.code, 0, prepared.stdout + prepared.stderr);
  });
  after(async () => {
    await daemon?.stop();
    await forceDown(id);
  });

  test('log in, see the fleet green, see the incident and its plan live, approve, watch the run end recovered', async () => {
    const password = `dash-${Math.random().toString(36).slice(2)}-pass`;
    const added = await lab.exec('ops', `${CLI} users add ana --state /tmp/lifeboat-state.db`, { stdin: `${password}\n` });
    assert.equal(added.code, 0, added.stdout + added.stderr);
    const clientTmp = join(lab.paths.host('client'), 'tmp');
    await mkdir(join(clientTmp, 'dashboard-browser'), { recursive: true });
    await writeFile(join(clientTmp, 'dashboard-browser', 'password'), password, { mode: 0o600 });

    daemon = await startDaemon(lab, { fleetFile: lab.operatorFleetFile, args: ['--policy', 'primary-down=confirm', '--interval', '2', '--dead-rounds', '2', '--health-interval', '5'], timeoutMs: 600_000 });
    await waitForEvents(daemon.file, (events) => events.filter((e) => e.type === 'verdict').length >= lab.fleet.machines.length, 60_000, 'the daemon did not judge every machine');

    const base = `http://${lab.host('ops').address}:9464`;
    const browsing = lab.exec('client', `cd ${REPO_IN_HOST} && HOME=${OUT} node --import tsx test/control/dashboard-browser.script.ts ${base} ana ${OUT}/password ${OUT}`, { timeoutMs: 540_000 });
    let finished = false;
    void browsing.finally(() => { finished = true; });
    const ready = join(clientTmp, 'dashboard-browser', 'ready');
    for (let i = 0; i < 900 && !existsSync(ready) && !finished; i++) await new Promise((resolve) => setTimeout(resolve, 200));
    if (!existsSync(ready)) {
      const r = finished ? await browsing : undefined;
      assert.fail(`the browser did not see the fleet green: ${r ? r.stderr.slice(-2000) : 'still waiting after 180 s'}`);
    }
    await lab.fault({ kind: 'machine-down', host: 'primary' });
    await writeFile(join(clientTmp, 'dashboard-browser', 'fault-injected'), '');
    const r = await browsing;
    await mkdir(ARTIFACTS, { recursive: true });
    for (const f of (await readdir(join(clientTmp, 'dashboard-browser'))).filter((n) => n.endsWith('.png') || n.endsWith('.json'))) await copyFile(join(clientTmp, 'dashboard-browser', f), join(ARTIFACTS, f));
    if (r.code !== 0) {
      const events = (await daemon.events()).slice(-12).map((e) => JSON.stringify(e).slice(0, 240));
      assert.fail(`the browser script failed: ${r.stderr.slice(-3000)}\nthe daemon's last events:\n${events.join('\n')}`);
    }
    const result = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    process.stdout.write(`# dashboard: first load ${result.pageBytes} bytes; step end → on the page (ms): ${JSON.stringify(result.stepLatencyMs)}; new roles on the grid ${result.gridAfterRecoveredMs} ms after the run was shown recovered\n`);
    assert.deepEqual(result.pageErrors, [], 'the page ran without errors');
    assert.equal(result.redirectedTo, '/login', 'without a session the page sends the browser to the login');
    for (const m of lab.fleet.machines) assert.ok((result.machines as string[]).includes(m.name), `the grid shows ${m.name}`);
    assert.ok((result.pageBytes as number) < 100_000, `the page is light: ${result.pageBytes} bytes`);
    assert.match(String(result.incidentShown), /incident-opened/, 'the incident is on the page');
    assert.match(String(result.planTitle), /primary-down/);
    assert.equal(result.reloadedBeforeApprove, false, 'the incident and the plan came without a reload');
    assert.equal(result.reloaded, false, 'the whole incident was followed without a reload');
    assert.match(String(result.runText), /recovered/);
    assert.ok((result.phoneOverflowPx as number) <= 0, `on a phone the page itself does not scroll sideways (${result.phoneOverflowPx} px)`);
    const latencies = result.stepLatencyMs as number[];
    assert.ok(latencies.length > 0, 'steps were seen ending on the page');
    // Approved by the logged-in user, recorded in the journal.
    const events = await daemon.events();
    assert.ok(events.some((e) => e.type === 'decision' && e.action === 'started' && /approved by ana/.test(e.detail)), 'the daemon ran the plan as approved by ana');
    assert.ok(events.some((e) => e.type === 'recovery-finished' && e.outcome === 'recovered'));
  });
});
