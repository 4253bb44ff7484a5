/**
 * Acceptance: `lifeboat recover --plan` shows every mutating step of every scenario with
 * its commands, SQL and diffs and changes nothing; bad input and unsafe requests are
 * refused before anything changes. "Changes nothing" is measured, not assumed: a snapshot
 * of every fleet machine and spare (site files, daemon configuration, supervisor states,
 * domain list, MariaDB read_only and replication, Redis role) is taken before and after.
 *
 * On the lab prepared once for on-a-prepared-lab.test.ts (it changes nothing, so it runs
 * first); lifeboat runs inside the ops host as an operator would run it.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { Lab } from '../../src/lab/lab.ts';
import { canRunLab } from '../lab/helpers.ts';
import { preparedLab, SHARED_STATE } from '../support/prepared-lab.ts';
import { snapshot, type LabSnapshot } from '../support/lab-snapshot.ts';

const skip = canRunLab();
const CLI = 'cd /lifeboat && node bin/lifeboat.mjs';
const STATE = `--state ${SHARED_STATE}`;

interface PlanCase {
  scenario: string;
  args: string;
  /** Text the plan must show: the mutating steps' commands, SQL and diffs. */
  shows: Array<string | RegExp>;
}

const PLANS: PlanCase[] = [
  {
    scenario: 'edge-down',
    args: '--failed edge-1',
    shows: ['UPDATE `speed`.`t_app_dns` SET `status` = ?', /params: \[2,"198\.51\.100\.\d+",2\]/],
  },
  {
    scenario: 'backup-down',
    args: '--failed backup --replacement spare-1',
    shows: ['t_app_dns', '--- a/etc/nginx/conf.d/lifeboat-upstreams.conf', 'nginx -t', 'supervisorctl start go-api', '--- a/etc/cron.d/lifeboat'],
  },
  {
    scenario: 'primary-down',
    args: '--failed primary',
    // The example fleet has stable endpoints: the backup's are switched at runtime, no
    // service config is rewritten and nothing is restarted.
    shows: ['STOP SLAVE', 'RESET SLAVE ALL', 'SET GLOBAL read_only', 'UPDATE', 't_app_dns', '--- a/var/lib/lifeboat/endpoints.cfg',
      'set server mariadb/live addr 198.51.100.13 port 13307', 'shutdown sessions server redis/live',
      '--- a/etc/nginx/conf.d/lifeboat-upstreams.conf', 'nginx -t', 'supervisorctl stop go-job'],
  },
  {
    scenario: 'both-app-down',
    args: '--failed primary --replacement spare-1',
    shows: ['mariadb-install-db', '--- a/etc/redis/lifeboat.conf', /newest good copy: \S+ \d{8}T\d{6}Z on (report|hk)/, 'supervisorctl update', 'mariadb-binlog --verify-binlog-checksum',
      't_app_dns', '--- a/etc/nginx/conf.d/lifeboat-upstreams.conf', 'nginx -t'],
  },
  {
    scenario: 'total-loss',
    args: '--failed primary --replacement spare-1',
    // report is an on-site store: lost in this scenario, so the copy comes from the off-site hk.
    shows: ['mariadb-install-db', /newest good copy: \S+ \d{8}T\d{6}Z on hk/, 'Restore the newest good copy from hk', 't_app_dns', 'nginx -t'],
  },
];

describe('recover --plan and refusals change nothing', { skip }, () => {
  let lab: Lab;
  /** Taken after prepare and the first backup: every later test compares against it. */
  let baseline: LabSnapshot;
  /** primary-down --yes refused because the primary is healthy (its output is judged again below). */
  let refused: { stdout: string; stderr: string } | undefined;
  /** The id of a `--plan` run: a plan must never become a run that applies. */
  let plannedRunId: string | undefined;

  const ops = (command: string, timeoutMs = 300_000) => lab.exec('ops', command, { timeoutMs });
  const recover = (args: string) => ops(`${CLI} recover ${args} --fleet ${lab.operatorFleetFile} ${STATE}`, 120_000);
  const output = (r: { stdout: string; stderr: string }) => `--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

  before(async () => {
    lab = await preparedLab();
  });

  // Before `backup run`: no store holds a copy yet. The check is made with --plan because
  // the machines are healthy: with --yes the run stops at "really failed" before it could
  // ever look for a copy; --plan plans every step, the restore included, and changes nothing.
  test('both-app-down with no backup copy anywhere: the restore step is refused', async () => {
    const before = await snapshot(lab);
    const r = await recover('both-app-down --failed primary --replacement spare-1 --plan');
    assert.equal(r.code, 1, output(r));
    assert.match(r.stdout, /Restore the newest good copy[^\n]*\n\s+! no usable backup copy on report, hk/, output(r));
    assert.deepEqual(await snapshot(lab), before);
  });

  test('every scenario plans its mutating steps with their commands, SQL and diffs, and changes nothing', async () => {
    const backup = await ops(`${CLI} backup run --fleet ${lab.operatorFleetFile}`);
    assert.equal(backup.code, 0, output(backup));
    baseline = await snapshot(lab);
    // The snapshot must see what it is meant to guard, or equal snapshots prove nothing.
    assert.equal(baseline['backup']?.mariadb?.readOnly, '1');
    assert.equal(baseline['backup']?.mariadb?.replicating, true);
    assert.equal(baseline['primary']?.redisRole, 'role:master');
    assert.equal(baseline['backup']?.redisRole, 'role:slave');
    assert.equal(baseline['primary']?.programs['go-job'], 'RUNNING');
    assert.ok(baseline['edge-1']?.files['/etc/nginx/conf.d/lifeboat-upstreams.conf']);
    assert.ok(baseline['primary']?.files['/wwwroot/go/go-api/config.yaml']);
    assert.ok((baseline['primary']?.mariadb?.domains.length ?? 0) > 0);

    // Side by side: plans change nothing, and each waits mostly on the machines' answers.
    const t0 = performance.now();
    const planned = await Promise.all(PLANS.map(async (c) => ({ c, r: await recover(`${c.scenario} ${c.args} --plan`), seconds: ((performance.now() - t0) / 1000).toFixed(1) })));
    for (const { c, r, seconds } of planned) {
      // Healthy machines: the "really failed" check fails, so a plan exits 1; the plan is still shown in full.
      assert.equal(r.code, 1, `${c.scenario}: ${output(r)}`);
      assert.match(r.stdout, new RegExp(`Plan for ${c.scenario} \\(run \\S+\\) — nothing below has been applied`), c.scenario);
      assert.match(r.stdout, /has really failed[^\n]*\[check: FAILED\]/, c.scenario);
      assert.match(r.stdout, /looks healthy/, c.scenario);
      const plan = r.stdout.slice(r.stdout.indexOf('Plan for'));
      plannedRunId ??= /^Plan for \S+ \(run (\S+)\)/.exec(plan)?.[1];
      for (const s of c.shows) {
        if (typeof s === 'string') assert.ok(plan.includes(s), `${c.scenario} plan lacks ${JSON.stringify(s)}\n${plan}`);
        else assert.match(plan, s, `${c.scenario} plan lacks ${s}`);
      }
      process.stdout.write(`# plan ${c.scenario}: ${seconds} s (the five at once)\n`);
    }
    assert.deepEqual(await snapshot(lab), baseline);
  });

  test('bad input and unsafe requests are refused and change nothing', async () => {
    assert.ok(plannedRunId, 'a plan named its run');
    // Bad input is refused before anything is reached: asked side by side.
    const [unknown, stranger, badSpare, noRun, resumePlan] = await Promise.all([
      recover('primry-down --failed primary --plan'),
      recover('primary-down --failed db-9 --yes'),
      recover('backup-down --failed backup --replacement spare-9 --yes'),
      recover('--resume 0zzzzzzzz-none --yes'),
      recover(`--resume ${plannedRunId} --yes`),
    ]);
    assert.equal(unknown.code, 2, output(unknown));
    assert.match(unknown.stderr, /unknown scenario `primry-down` — did you mean `primary-down`\?/);
    assert.equal(stranger.code, 2, output(stranger));
    assert.match(stranger.stderr, /--failed: no machine `db-9` in fleet/);
    assert.equal(badSpare.code, 2, output(badSpare));
    assert.match(badSpare.stderr, /--replacement: no machine `spare-9`/);
    assert.equal(noRun.code, 2, output(noRun));
    assert.match(noRun.stderr, /no run with id 0zzzzzzzz-none/);
    assert.equal(resumePlan.code, 2, output(resumePlan));
    assert.match(resumePlan.stderr, /was only a plan/);

    // --yes against a healthy primary: refused at the first check, before any mutating step.
    const healthy = await recover('primary-down --failed primary --yes');
    refused = healthy;
    assert.equal(healthy.code, 1, output(healthy));
    assert.match(healthy.stdout, /primary looks healthy/);
    assert.match(healthy.stdout, /Error: step 1\.\d "Confirm primary has really failed" failed/);

    // A spare holding a site is not bare. --plan, not --yes: backup-down checks the spare
    // only after it has taken the backup out of service (step 5), so with a healthy backup
    // --yes would stop at step 1 and never reach this check; --plan runs every check.
    // "Bare" is judged by the fleet's own folders: a leftover in a service's folder counts.
    await lab.exec('spare-1', 'mkdir -p /wwwroot/go/go-api && echo leftover > /wwwroot/go/go-api/site.txt');
    try {
      const notBare = await recover('backup-down --failed backup --replacement spare-1 --plan');
      assert.equal(notBare.code, 1, output(notBare));
      assert.match(notBare.stdout, /Confirm spare-1 is a bare spare[^\n]*\[check: FAILED\]\n\s+! spare-1 is not bare: it already holds \/wwwroot\/go\/go-api/, output(notBare));
      const withStray = await snapshot(lab);
      assert.equal(Object.keys(withStray['spare-1']!.files).join(), '/wwwroot/go/go-api/site.txt');
    } finally {
      await lab.exec('spare-1', 'rm -rf /wwwroot/go');
    }
    assert.deepEqual(await snapshot(lab), baseline);
  });

  // A run refused at its first check must not tell the operator "primary is out of
  // service": nothing changed.
  test('a run refused before any change does not tell the operator the machine is out of service', () => {
    assert.ok(refused, 'the refused run ran');
    assert.doesNotMatch(refused.stdout, /primary is out of service/, output(refused));
  });

  // A scenario refusing a machine of the wrong role is bad input; nothing is journaled or changed.
  test('a machine of the wrong role for the scenario is bad input (exit 2) and changes nothing', async () => {
    const r = await recover('primary-down --failed edge-1 --yes');
    assert.match(r.stderr + r.stdout, /edge-1 is not the primary/, output(r));
    assert.deepEqual(await snapshot(lab), baseline);
    assert.equal(r.code, 2, output(r));
  });
});
