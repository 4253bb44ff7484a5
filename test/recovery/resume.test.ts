/**
 * Acceptance: a primary-down recovery killed with SIGKILL at seven different points and
 * resumed each time ends `recovered`, never applies again a step it had verified, and
 * leaves the business answering from the backup with every row the primary had.
 *
 * The recover process runs in the ops host as an operator's would; the test watches the
 * journal (the ops host's state file, read-only from the machine) and kills the process
 * by its pid inside ops the moment the journal shows the step it waits for.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { Lab } from '../../src/lab/lab.ts';
import type { RunResult } from '../../src/remote/remote.ts';
import { canRunLab, EXAMPLE_FLEET, forceDown, randomLabId } from '../lab/helpers.ts';

const skip = canRunLab();
const CLI = 'cd /lifeboat && node bin/lifeboat.mjs';
const STATE = '/tmp/lb.db';
/** The recover process writes its pid here (in ops) so the test kills exactly that process. */
const PID_FILE = '/tmp/lifeboat-recover.pid';
const USERS = 40;

interface StepRow { idx: number; parent: number | null; title: string; state: string; applications: number }
interface EventRow { id: number; step: number | null; event: string }

/** Where a kill landed: every step's state and count of applications at that moment. */
interface KillPoint {
  name: string;
  steps: Map<number, StepRow>;
  lastEvent: number;
}

describe('primary-down killed seven times and resumed', { skip }, () => {
  const id = randomLabId();
  let lab: Lab;
  let journal: Database.Database | undefined;
  /** `recover --plan` with the primary really down, run before the recovery (judged in its own test). */
  let planWhenDown: RunResult | undefined;

  const ops = (command: string, timeoutMs = 300_000) => lab.exec('ops', command, { timeoutMs });
  const output = (r: RunResult) => `exit ${r.code} signal ${r.signal}\n--- stdout\n${r.stdout.slice(-3000)}\n--- stderr\n${r.stderr.slice(-3000)}`;
  /** `exec` keeps the pid the shell wrote: it is the node process's own. */
  const startRecover = (args: string) =>
    ops(`echo $$ > ${PID_FILE} && ${CLI.replace('node ', 'exec node ')} recover ${args} --fleet ${lab.operatorFleetFile} --yes --json --state ${STATE}`, 300_000);

  before(async () => {
    const t0 = performance.now();
    lab = await Lab.up({ id, fleetFile: EXAMPLE_FLEET });
    const t1 = performance.now();
    const prepared = await ops(`${CLI} prepare --fleet ${lab.operatorFleetFile} --yes --state ${STATE}`);
    assert.equal(prepared.code, 0, output(prepared));
    process.stdout.write(`# lab up ${((t1 - t0) / 1000).toFixed(1)} s, prepare ${((performance.now() - t1) / 1000).toFixed(1)} s\n`);
  });
  after(async () => {
    journal?.close();
    await forceDown(id);
  });

  function db(): Database.Database {
    journal ??= new Database(join(lab.paths.host('ops'), STATE.slice(1)), { readonly: true, fileMustExist: true });
    return journal;
  }
  const steps = (runId: string) =>
    new Map((db().prepare(`SELECT idx, parent, title, state, applications FROM steps WHERE run_id = ? ORDER BY idx`).all(runId) as StepRow[]).map((s) => [s.idx, s]));
  const outcome = (runId: string) => (db().prepare(`SELECT outcome FROM runs WHERE id = ?`).get(runId) as { outcome: string }).outcome;
  const lastEvent = (runId: string) => (db().prepare(`SELECT COALESCE(MAX(id), 0) AS id FROM events WHERE run_id = ?`).get(runId) as { id: number }).id;

  /** Polls the journal until `found` holds; fails when the process ends first or after `limitMs`. */
  async function waitInJournal<T>(running: Promise<RunResult>, what: string, found: () => T | undefined, limitMs = 120_000): Promise<T> {
    let ended: RunResult | undefined;
    void running.then((r) => (ended = r), () => undefined);
    const deadline = Date.now() + limitMs;
    while (Date.now() < deadline) {
      const hit = found();
      if (hit !== undefined) return hit;
      if (ended) assert.fail(`the recover process ended before ${what}:\n${output(ended)}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    assert.fail(`no ${what} in the journal within ${limitMs / 1000} s`);
  }

  /** The first event of `step` among `events` after event id `since`. */
  const eventAfter = (runId: string, step: number, events: readonly string[], since: number) => () =>
    (db().prepare(`SELECT id, step, event FROM events WHERE run_id = ? AND step = ? AND id > ? ORDER BY id`).all(runId, step, since) as EventRow[])
      .find((e) => events.includes(e.event));

  /**
   * The first event after `since` of `step` among `events` or, when a resume has nothing
   * left to do on that step (an earlier kill came later than aimed), the first step after
   * it (not one of its own children) verified: the kill still lands further on.
   */
  const eventAtOrAfter = (runId: string, rows: Map<number, StepRow>, step: number, events: readonly string[], since: number) => () =>
    (db().prepare(`SELECT id, step, event FROM events WHERE run_id = ? AND step IS NOT NULL AND id > ? ORDER BY id`).all(runId, since) as EventRow[])
      .find((e) => (e.step === step && events.includes(e.event)) ||
        (e.step! > step && rows.get(e.step!)?.parent !== step && e.event === 'verified'));

  async function kill(running: Promise<RunResult>, runId: string, name: string): Promise<KillPoint> {
    const k = await ops(`kill -KILL "$(cat ${PID_FILE})"`, 10_000);
    assert.equal(k.code, 0, output(k));
    const r = await running;
    assert.ok(r.signal === 'SIGKILL' || r.code === 137, `the recover process was not killed:\n${output(r)}`);
    assert.equal(outcome(runId), 'running', 'a killed run stays `running` in the journal (resumable)');
    const point = { name, steps: steps(runId), lastEvent: lastEvent(runId) };
    const verified = [...point.steps.values()].filter((s) => s.state === 'verified').map((s) => s.idx);
    const busy = [...point.steps.values()].filter((s) => s.state === 'applying' || s.state === 'applied').map((s) => `${s.idx}:${s.state}`);
    process.stdout.write(`# killed ${name}: verified [${verified.join(',')}], in progress [${busy.join(',')}]\n`);
    return point;
  }

  test('ends recovered, with no verified step applied again, the business answering and no row lost', async () => {
    // Rows the business wrote before the fault, through the primary.
    const values = Array.from({ length: USERS }, (_, i) => `('resume-${i}', 'x')`).join(',');
    const insert = await lab.exec('primary', `mariadb -e "INSERT INTO speed.users (username, password_hash) VALUES ${values}"`);
    assert.equal(insert.code, 0, output(insert));
    const count = await lab.exec('primary', `mariadb -N -e "SELECT COUNT(*) FROM speed.users"`);
    const rowsBefore = Number(count.stdout.trim());
    assert.ok(rowsBefore >= USERS, output(count));

    await lab.fault({ kind: 'machine-down', host: 'primary' });
    planWhenDown = await ops(`${CLI} recover primary-down --failed primary --plan --fleet ${lab.operatorFleetFile} --state ${STATE}`, 120_000);
    assert.match(planWhenDown.stdout, /Confirm the backup and the nginx machines are healthy, and the primary really failed[^\n]*\[check: passed\]/, output(planWhenDown));
    const t0 = performance.now();

    // The test cut the power itself: like the person who did, it says so (--confirm-fenced).
    let running = startRecover('primary-down --failed primary --confirm-fenced primary');
    const runId = await waitInJournal(running, 'primary-down run', () =>
      (db().prepare(`SELECT id FROM runs WHERE scenario = 'primary-down' AND outcome = 'running' ORDER BY started_at DESC LIMIT 1`).get() as { id: string } | undefined)?.id);
    const rows = steps(runId);
    const stepTitled = (prefix: string) => {
      const s = [...rows.values()].find((r) => r.title.startsWith(prefix));
      assert.ok(s, `no step titled "${prefix}…" in ${[...rows.values()].map((r) => r.title).join(' | ')}`);
      return s.idx;
    };
    const promote = stepTitled('Bring the database up on backup');
    const restart = stepTitled('Switch the stable endpoints');
    const upstreams = stepTitled('Remove the primary from the nginx forwarding lists');
    const fence = stepTitled('Make sure the old primary cannot run its singletons');
    const install = stepTitled('Install go-upload, go-job on the backup');
    const startLater = stepTitled('Start go-upload, go-job on the backup');

    // Where to kill, in order: each waits for an event of its step newer than the previous
    // kill, so every kill lands in a later process and further on in the run.
    const plan: Array<{ name: string; step: number; events: string[] }> = [
      { name: 'during the promotion', step: promote, events: ['applying', 'verified'] },
      { name: 'after the promotion', step: promote, events: ['verified'] },
      // If an earlier kill caught the switch half done and the resume finds it done, this
      // kill lands right after it is verified again.
      { name: 'during the endpoint switch', step: restart, events: ['applying', 'verified'] },
      { name: 'after the upstream switch', step: upstreams, events: ['verified'] },
      { name: 'during the fence of the old primary', step: fence, events: ['applying', 'verified'] },
      { name: 'during the install from the archive', step: install, events: ['applying', 'verified'] },
      { name: 'during the start of go-upload, go-job', step: startLater, events: ['applying', 'verified'] },
    ];
    const kills: KillPoint[] = [];
    for (const point of plan) {
      if (kills.length > 0) running = startRecover(`--resume ${runId}`);
      await waitInJournal(running, `${point.events.join(' or ')} of step ${point.step} (${point.name})`,
        eventAtOrAfter(runId, rows, point.step, point.events, kills.at(-1)?.lastEvent ?? 0));
      kills.push(await kill(running, runId, point.name));
    }

    const last = await startRecover(`--resume ${runId}`);
    const seconds = (performance.now() - t0) / 1000;
    assert.equal(last.code, 0, output(last));
    const json = JSON.parse(last.stdout) as { id: string; outcome: string };
    assert.equal(json.id, runId);
    assert.equal(json.outcome, 'recovered');
    assert.equal(outcome(runId), 'recovered');
    process.stdout.write(`# fault to recovered, seven kills included: ${seconds.toFixed(1)} s\n`);

    // The kills landed at different places, each further on than the one before.
    const verifiedAt = (k: KillPoint) => [...k.steps.values()].filter((s) => s.state === 'verified').length;
    const progress = kills.map(verifiedAt);
    assert.ok(progress.every((n, i) => i === 0 || n > progress[i - 1]!), `kills at ${progress.join(', ')} verified steps`);
    assert.equal(kills[1]!.steps.get(promote)!.state, 'verified');
    assert.equal(kills[3]!.steps.get(upstreams)!.state, 'verified');

    const final = steps(runId);
    for (const s of final.values()) {
      assert.equal(s.state, 'verified', `step ${s.idx} "${s.title}"`);
      // A step verified before a kill is never applied again by a resume.
      for (const k of kills) {
        const then = k.steps.get(s.idx)!;
        if (then.state === 'verified') {
          assert.equal(s.applications, then.applications, `step ${s.idx} "${s.title}" verified before the kill ${k.name}, applied again after it`);
        }
      }
      // Only a kill in the middle of a step may make it apply once more.
      const interrupted = kills.filter((k) => ['applying', 'applied'].includes(k.steps.get(s.idx)!.state)).length;
      assert.ok(s.applications >= 1 && s.applications <= 1 + interrupted,
        `step ${s.idx} "${s.title}" applied ${s.applications} times, interrupted ${interrupted} time(s)`);
      if (interrupted === 0) assert.equal(s.applications, 1, `step ${s.idx} "${s.title}"`);
    }
    // A step caught half done is looked at again before anything is re-applied.
    for (const k of kills) {
      for (const s of k.steps.values()) {
        if (s.state !== 'applying' && s.state !== 'applied') continue;
        assert.ok(eventAfter(runId, s.idx, ['reverify'], k.lastEvent)(), `step ${s.idx} "${s.title}", ${s.state} at the kill ${k.name}, was not re-verified on resume`);
      }
    }
    process.stdout.write(`# applications per step: ${[...final.values()].map((s) => `${s.idx}=${s.applications}`).join(' ')}\n`);
    const resumes = db().prepare(`SELECT COUNT(*) AS n FROM events WHERE run_id = ? AND event = 'run-resumed'`).get(runId) as { n: number };
    assert.equal(resumes.n, kills.length);

    // The business answers through both edges, from the client.
    for (const domain of ['thertee.xyz', '2yiny.xyz']) {
      const http = await lab.exec('client', `curl -s -o /dev/null --max-time 5 -w '%{http_code}' http://${domain}/go-api/healthz`, { timeoutMs: 15_000 });
      assert.equal(http.stdout.trim(), '200', `${domain}: ${output(http)}`);
    }
    // The backup is the writable primary now and holds every row the primary had.
    const state = await lab.exec('backup', `mariadb -N -e "SELECT @@read_only, (SELECT COUNT(*) FROM speed.users)"; mariadb -N -e "SHOW SLAVE STATUS" | wc -l`);
    assert.equal(state.code, 0, output(state));
    const [readOnly, rowsAfter, slaveLines] = state.stdout.trim().split(/\s+/);
    assert.equal(readOnly, '0', 'backup MariaDB is writable');
    assert.equal(Number(rowsAfter), rowsBefore, 'rows of speed.users on the backup vs on the primary before the fault');
    assert.equal(slaveLines, '0', 'the backup no longer replicates');
    // Every service on the backup runs a process started after its config was rewritten:
    // a restart that a kill swallowed would leave one on the dead primary's addresses.
    for (const binding of lab.fleet.bindings) {
      const probe = await lab.exec('backup', [
        `pid=$(supervisorctl -c /etc/supervisor/supervisord.conf pid ${binding.service})`,
        `ticks=$(awk '{print $22}' /proc/$pid/stat)`,
        `btime=$(awk '/^btime/ {print $2}' /proc/stat)`,
        `echo "$(awk -v b=$btime -v t=$ticks -v hz=$(getconf CLK_TCK) 'BEGIN {printf "%.2f", b + t / hz}') $(stat -c %.3Y ${binding.file})"`,
      ].join('; '));
      const [started, written] = probe.stdout.trim().split(' ').map(Number);
      assert.ok(Number.isFinite(started) && Number.isFinite(written), `${binding.service}: ${output(probe)}`);
      // btime has whole seconds: allow one second of slack (the lab started the services long before).
      assert.ok(started! >= written! - 1, `${binding.service} on the backup started at ${started}, before its config ${binding.file} was written at ${written}`);
    }
    const write = await lab.exec('backup', `mariadb -e "INSERT INTO speed.users (username, password_hash) VALUES ('after-resume', 'x')"`);
    assert.equal(write.code, 0, output(write));
  });

  // The installation archive holds the services' config files, DSNs included: a killed
  // relay's temporary copies must be cleaned up by the resumed step.
  test('the killed runs leave no temporary copy of the installation archive behind', async () => {
    const left: string[] = [];
    for (const host of ['ops', 'backup']) {
      const r = await lab.exec(host, 'ls -d /tmp/lifeboat-archive-* /tmp/lifeboat-relay-* /var/tmp/lifeboat-relay-* 2>/dev/null; true');
      left.push(...r.stdout.trim().split('\n').filter(Boolean).map((p) => `${host}:${p}`));
    }
    process.stdout.write(`# temporary copies left: ${left.join(' ') || 'none'}\n`);
    assert.deepEqual(left, []);
  });

  // With the primary really down every precondition passes: the plan exits 0, although
  // checks after mutating steps and steps acting on files an earlier step creates can only
  // be planned, not run.
  test('with the primary really down, --plan exits 0', () => {
    assert.ok(planWhenDown, 'the plan ran');
    const unplanned = planWhenDown.stdout.split('\n').filter((l) => /^\s+! /.test(l));
    process.stdout.write(`# plan with the primary down: exit ${planWhenDown.code}; ${unplanned.length} step(s) not planned${unplanned.length ? `:${unplanned.join(' |')}` : ''}\n`);
    assert.equal(planWhenDown.code, 0, output(planWhenDown));
  });
});
