/**
 * `lifeboat drill custom --auto`: "what would my daemon do if…". On a lab of its own, prepared
 * like the real fleet, the watch daemon runs with the fleet's own watch settings and `auto`
 * for every scenario, the users'-side probe runs on the client host, and any lab faults are
 * injected (held, held for a while, or flapping). The report lists every verdict the daemon
 * reached and every recovery it started, and whether that matches the expectation: `none`
 * (nothing may be failed over) or one scenario (it must be, and recover).
 */
import { randomBytes } from 'node:crypto';
import { loadFleet } from '../../fleet/load.ts';
import { SCENARIO_NAMES, type ScenarioName } from '../../fleet/schema.ts';
import type { WatchEvent } from '../../control/watch.ts';
import { LabError } from '../errors.ts';
import { describeFault, type FaultSpec } from '../fault-kinds.ts';
import { Lab } from '../lab.ts';
import { planLab } from '../plan.ts';
import { REPO_IN_HOST } from '../paths.ts';
import { IN_HOST_CLI, startDaemon, startUsersProbe, waitForEvents } from './daemon.ts';

export interface CustomDrillOptions {
  fleetFile: string;
  faults: FaultSpec[];
  /** Toggle the faults every this many seconds (in force, healed, in force…). */
  flapS?: number;
  /** Heal the faults after this many seconds (default: held to the end). */
  holdS?: number;
  expect: 'none' | ScenarioName;
  /** Verdict kinds the daemon must reach (e.g. ip-blocked). */
  verdicts?: string[];
  /** Seconds to watch after the fault. */
  observeS: number;
  labId?: string;
  keep?: boolean;
  log?: (line: string) => void;
}

export interface CustomDrillReport {
  drill: 'custom';
  ok: boolean;
  faults: string[];
  flapS: number | null;
  holdS: number | null;
  expect: string;
  expectVerdicts: string[];
  observeSeconds: number;
  /** Every recovery the daemon started, with how it ended. */
  recoveries: Array<{ scenario: string; failed: string; afterS: number; runId: string | null; outcome: string | null; seconds: number | null }>;
  /** Every verdict the daemon reached after the fault: machine verdict changes, blocked paths, flapping. */
  verdicts: Array<{ afterS: number; subject: string; kind: string; reason: string }>;
  /** Every policy decision (notified, observed, cooling-down…). */
  decisions: Array<{ afterS: number; scenario: string; failed: string; action: string; detail: string }>;
  usersSide: { rounds: number; pushed: number };
  errors: string[];
  problems: string[];
  labId: string;
}

const STARTED = new Set(['started', 'resumed']);

export async function runCustomDrill(o: CustomDrillOptions): Promise<CustomDrillReport> {
  const log = o.log ?? (() => undefined);
  const labId = o.labId ?? `dc${randomBytes(2).toString('hex')}`;
  // Every fault names something the lab will have, checked before anything is built.
  const fleet = await loadFleet(o.fleetFile);
  const plan = planLab(labId, fleet);
  const hosts = new Set(plan.hosts.map((h) => h.name));
  const domains = new Set(fleet.machines.flatMap((m) => m.domains));
  for (const f of o.faults) {
    const names = 'hosts' in f ? f.hosts : 'host' in f ? [f.host] : [];
    for (const n of names) if (!hosts.has(n)) throw new LabError('bad-fault', `${describeFault(f)}: no host ${n} in the lab of this fleet (hosts: ${[...hosts].join(', ')})`);
    if (f.kind === 'domain-blocked' && !domains.has(f.domain)) throw new LabError('bad-fault', `${describeFault(f)}: ${f.domain} is not a domain of the fleet`);
  }
  if (o.faults.length === 0 && o.expect !== 'none') throw new LabError('bad-fault', `--expect ${o.expect} needs at least one --fault`);

  const problems: string[] = [];
  log(`drill custom: lab ${labId} coming up`);
  const lab = await Lab.up({ id: labId, fleetFile: o.fleetFile, log: (line) => log(`  ${line}`) });
  try {
    const fleetFile = lab.operatorFleetFile;
    const prepared = await lab.exec('ops', `cd ${REPO_IN_HOST} && ${IN_HOST_CLI} prepare --fleet ${fleetFile} --yes --state /tmp/lifeboat-state.db`, { timeoutMs: 300_000 });
    if (prepared.code !== 0) throw new Error(`prepare failed (exit ${prepared.code}): ${(prepared.stderr || prepared.stdout).trim().split('\n').slice(-6).join(' | ')}`);
    log('  prepared');

    const limitS = o.observeS + 660;
    // Every runbook on auto, but a healed machine is not brought back mid-drill (rejoin reseeds it).
    const daemon = await startDaemon(lab, { fleetFile, args: SCENARIO_NAMES.filter((s) => s !== 'rejoin').flatMap((s) => ['--policy', `${s}=auto`]), timeoutMs: limitS * 1000 });
    await waitForEvents(daemon.file, (ev) => ev.some((e) => e.type === 'started'), 60_000, 'the daemon did not start').catch(async (error: Error) => {
      throw new Error(`${error.message}: ${await daemon.stderr()}`);
    });
    const probe = await startUsersProbe(lab, limitS * 1000);
    // Watching: every machine judged once, and the users' side heard from.
    await waitForEvents(daemon.file, (ev) => ev.filter((e) => e.type === 'verdict').length >= lab.fleet.machines.length, 90_000, 'the daemon did not judge every machine');
    const until = Date.now() + 30_000;
    while (Date.now() < until && !(await probe.rounds()).some((r) => r.pushed)) await new Promise((r) => setTimeout(r, 200));
    if (!(await probe.rounds()).some((r) => r.pushed)) problems.push(`the users'-side probe never reported: ${JSON.stringify((await probe.rounds()).at(-1) ?? 'no round')}`);
    log('  daemon watching, users\' side reporting');

    const faultAt = Date.now();
    const inject = () => Promise.all(o.faults.map((f) => lab.fault(f)));
    const heal = () => Promise.all(o.faults.map((f) => lab.heal(f).catch(() => undefined)));
    await inject();
    log(`  fault${o.faults.length === 1 ? '' : 's'}: ${o.faults.map(describeFault).join(', ') || 'none'}${o.flapS ? `, flapping every ${o.flapS} s` : ''}${o.holdS ? `, for ${o.holdS} s` : ''}`);
    let inForce = o.faults.length > 0;
    let healedAt = o.holdS !== undefined ? faultAt + o.holdS * 1000 : Infinity;
    let nextFlip = o.flapS !== undefined ? faultAt + o.flapS * 1000 : Infinity;
    const end = faultAt + o.observeS * 1000;
    for (;;) {
      const now = Date.now();
      if (now >= end) break;
      if (inForce && now >= healedAt) {
        await heal();
        inForce = false;
        nextFlip = Infinity;
        healedAt = Infinity;
      } else if (now >= nextFlip) {
        if (inForce) await heal();
        else await inject();
        inForce = !inForce;
        nextFlip += o.flapS! * 1000;
      }
      // Only an expected recovery ends the watch early: the events are read for nothing else.
      if (o.expect !== 'none' && (await daemon.events()).some((e) => e.type === 'recovery-finished')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    if (inForce) await heal();
    // A recovery the daemon started is let finish: stopping it half-way is a different drill.
    let events = await daemon.events();
    const started = () => events.filter((e) => e.type === 'decision' && STARTED.has(e.action)).length;
    const finished = () => events.filter((e) => e.type === 'recovery-finished').length;
    if (started() > finished()) {
      log('  waiting for the recovery the daemon started');
      events = await waitForEvents(daemon.file, (ev) => ev.filter((e) => e.type === 'recovery-finished').length >= ev.filter((e) => e.type === 'decision' && STARTED.has(e.action)).length, 600_000, 'the daemon did not finish its recovery');
    }
    await probe.stop();
    problems.push(...(await daemon.stop()));
    events = await daemon.events();
    const rounds = await probe.rounds();
    return customReport(o, labId, faultAt, events, rounds, problems);
  } finally {
    if (o.keep) log(`lab ${labId} left up: lifeboat lab down --id ${labId}`);
    else await lab.down();
  }
}

export function customReport(o: CustomDrillOptions, labId: string, faultAt: number, events: WatchEvent[], rounds: Array<{ pushed: boolean }>, problems: string[]): CustomDrillReport {
  const afterS = (at: string) => Math.round(Date.parse(at) - faultAt) / 1000;
  const later = events.filter((e) => Date.parse(e.at) >= faultAt);
  const finishedRuns = events.flatMap((e) => (e.type === 'recovery-finished' ? [e] : []));
  // One recovery runs at a time: each start is ended by the first finish after it.
  let used = 0;
  const recoveries = later.flatMap((e) => (e.type === 'decision' && STARTED.has(e.action) ? [e] : [])).map((d) => {
    const at = finishedRuns.findIndex((r, i) => i >= used && Date.parse(r.at) >= Date.parse(d.at));
    const f = at >= 0 ? finishedRuns[at] : undefined;
    if (at >= 0) used = at + 1;
    return { scenario: d.scenario, failed: d.failed, afterS: afterS(d.at), runId: f?.runId ?? null, outcome: f?.outcome ?? null, seconds: f?.seconds ?? null };
  });
  const verdicts = later.flatMap((e) => {
    if (e.type === 'verdict') return [{ afterS: afterS(e.at), subject: e.machine, kind: e.kind, reason: e.reason }];
    if (e.type === 'blocked') return [{ afterS: afterS(e.at), subject: e.target, kind: e.kind, reason: e.reason }];
    if (e.type === 'unblocked') return [{ afterS: afterS(e.at), subject: e.target, kind: `not ${e.kind}`, reason: 'reachable again from the users\' side' }];
    if (e.type === 'flapping') return [{ afterS: afterS(e.at), subject: e.machine, kind: 'flapping', reason: e.detail }];
    if (e.type === 'condition') return [{ afterS: afterS(e.at), subject: e.target, kind: e.kind, reason: e.reason }];
    if (e.type === 'condition-cleared') return [{ afterS: afterS(e.at), subject: e.target, kind: `not ${e.kind}`, reason: 'no longer holds' }];
    return [];
  });
  const decisions = later.flatMap((e) => (e.type === 'decision' ? [{ afterS: afterS(e.at), scenario: e.scenario, failed: e.failed, action: e.action, detail: e.detail }] : []));
  const all = [...problems];
  if (o.expect === 'none') {
    if (recoveries.length > 0) all.push(`expected no recovery, the daemon started ${recoveries.length}: ${recoveries.map((r) => `${r.scenario} --failed ${r.failed}`).join('; ')}`);
  } else {
    if (recoveries.length === 0) all.push(`expected ${o.expect}, the daemon started no recovery`);
    for (const r of recoveries) {
      if (r.scenario !== o.expect) all.push(`expected ${o.expect}, the daemon started ${r.scenario} --failed ${r.failed}`);
      else if (r.outcome !== 'recovered') all.push(`${r.scenario} --failed ${r.failed} ended ${r.outcome ?? 'without an outcome'}`);
    }
  }
  for (const kind of o.verdicts ?? []) {
    if (!verdicts.some((v) => v.kind === kind)) all.push(`expected the verdict ${kind}; the daemon reached ${[...new Set(verdicts.map((v) => v.kind))].join(', ') || 'none'}`);
  }
  return {
    drill: 'custom',
    ok: all.length === 0,
    faults: o.faults.map(describeFault),
    flapS: o.flapS ?? null,
    holdS: o.holdS ?? null,
    expect: o.expect,
    expectVerdicts: o.verdicts ?? [],
    observeSeconds: o.observeS,
    recoveries,
    verdicts,
    decisions,
    usersSide: { rounds: rounds.length, pushed: rounds.filter((r) => r.pushed).length },
    errors: later.flatMap((e) => (e.type === 'error' ? [e.message] : [])),
    problems: all,
    labId,
  };
}

export function renderCustomDrill(r: CustomDrillReport): string {
  const lines = [
    `drill custom: ${r.ok ? 'PASSED' : 'FAILED'} (lab ${r.labId})`,
    `  faults      ${r.faults.join('; ') || 'none'}${r.flapS ? `, flapping every ${r.flapS} s` : ''}${r.holdS ? `, held ${r.holdS} s` : ''}`,
    `  expected    ${r.expect === 'none' ? 'no recovery' : r.expect}${r.expectVerdicts.length ? `; verdicts ${r.expectVerdicts.join(', ')}` : ''}`,
    `  watched     ${r.observeSeconds} s; users' side pushed ${r.usersSide.pushed} of ${r.usersSide.rounds} rounds`,
    `  recoveries  ${r.recoveries.length === 0 ? 'none' : ''}`,
    ...r.recoveries.map((x) => `    +${x.afterS} s ${x.scenario} --failed ${x.failed}: ${x.outcome ?? '—'}${x.seconds !== null ? ` in ${x.seconds} s` : ''}`),
    '  verdicts',
    ...r.verdicts.map((v) => `    +${v.afterS} s ${v.subject}: ${v.kind} — ${v.reason}`),
    ...(r.decisions.length ? ['  decisions', ...r.decisions.map((d) => `    +${d.afterS} s ${d.scenario} --failed ${d.failed}: ${d.action} (${d.detail})`)] : []),
    ...(r.errors.length ? ['  daemon errors', ...r.errors.map((e) => `    ${e}`)] : []),
    ...(r.problems.length ? ['  problems', ...r.problems.map((p) => `    ${p}`)] : []),
    '',
  ];
  return lines.join('\n');
}
