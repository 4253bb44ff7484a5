/**
 * The daemon's decisions without machines: verdicts and the fleet's status are fed in, the
 * journal is a real one in a temporary folder, alerts go to a recording channel. A recovery
 * that really runs is proven in the lab (`lifeboat drill primary-down --auto`).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { ActionContext } from '../actions/action.ts';
import { parseFleet } from '../fleet/load.ts';
import { MINIMAL_DATABASE_YAML } from '../fleet/fixtures.ts';
import type { Fleet, WatchSettings } from '../fleet/schema.ts';
import { watchSchema } from '../fleet/schema.ts';
import type { FleetStatus } from '../health/fleet-status.ts';
import type { Verdict, VerdictKind } from '../health/verdict.ts';
import { Journal } from '../recovery/journal.ts';
import { Alerter, type AlertMessage } from './alerts.ts';
import { Detector } from './detector.ts';
import { UsersSideStore } from './users-side/store.ts';
import { Watch, type WatchEvent, type WatchOptions } from './watch.ts';

const fleet: Fleet = parseFleet(`version: 1
name: w
machines:
  - { name: edge, address: 192.0.2.1, roles: [edge], domains: [a.example.com] }
  - { name: main, address: 192.0.2.2, roles: [app, db-primary] }
  - { name: standby, address: 192.0.2.3, roles: [app, db-replica] }
services:
  web: { roles: [app], dir: /srv/web, port: 9000 }
${MINIMAL_DATABASE_YAML}`, 'w.yaml');

const verdict = (machine: string, kind: VerdictKind): Verdict =>
  ({ machine, address: '192.0.2.9', kind, reason: `${machine} ${kind}`, views: [], seenBy: [], judgedAt: '' });

const status: FleetStatus = {
  fleet: 'w', checkedAt: '', healthy: false, risks: [],
  machines: fleet.machines.map((m) => ({ name: m.name, address: m.address, roles: [...m.roles], reachable: m.name !== 'main', services: [], healthy: m.name !== 'main' })),
} as unknown as FleetStatus;

let dir: string;
let journal: Journal;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lifeboat-watch-'));
  journal = Journal.open(join(dir, 'state.db'));
});
after(async () => {
  journal.close();
  await rm(dir, { recursive: true, force: true });
});

/** A Watch whose machines are judged by `script`, one list of kinds per round. */
function watchWith(script: Array<Record<string, VerdictKind>>, settings: Partial<WatchSettings>, observe: boolean, usersSide?: (now: () => number) => WatchOptions['usersSide'], readHealth?: WatchOptions['readHealth'], onFleet: Fleet = fleet) {
  const events: WatchEvent[] = [];
  const alerts: AlertMessage[] = [];
  let round = 0;
  let clock = 1_000_000;
  const alerter = new Alerter([{ name: 'test', send: async (m) => { alerts.push(m); } }], () => undefined);
  const reads = { status: 0 };
  const watch = new Watch({
    ctx: { fleet: onFleet } as unknown as ActionContext,
    journal,
    // Rounds are 1 s apart on this clock; how long a death must last (deadForS) is the
    // detector's own test, so these count rounds only unless they set it.
    settings: { ...watchSchema.parse({}), deadForS: 0, ...settings },
    observe,
    alerter,
    emit: (e) => events.push(e),
    judge: async (machines) => machines.map((m) => verdict(m, script[Math.min(round, script.length - 1)]![m] ?? 'alive')),
    status: async () => { reads.status += 1; return status; },
    now: () => clock,
    ...(usersSide ? { usersSide: usersSide(() => clock) } : {}),
    ...(readHealth ? { readHealth } : {}),
  });
  const next = async () => {
    await watch.round();
    await watch.settled();
    round += 1;
    clock += 1000;
  };
  return { watch, events, alerts, next, reads };
}

test('a death is acted on only after the required consecutive rounds, once per incident', async () => {
  const w = watchWith([{ main: 'dead' }], { deadRounds: 3, policy: { 'primary-down': 'auto' } }, true);
  await w.next();
  await w.next();
  assert.equal(w.events.filter((e) => e.type === 'decision').length, 0, 'two rounds are not enough');
  await w.next();
  const decisions = w.events.filter((e) => e.type === 'decision');
  assert.equal(decisions.length, 1);
  assert.deepEqual([decisions[0]!.scenario, decisions[0]!.failed, decisions[0]!.action], ['primary-down', 'main', 'observed']);
  assert.match(decisions[0]!.detail, /a failover would start now: lifeboat recover primary-down --failed main/);
  await w.next();
  await w.next();
  assert.equal(w.events.filter((e) => e.type === 'decision').length, 1, 'one decision per incident');
  assert.equal(w.alerts.length, 1);
  assert.equal(w.reads.status, 1, 'the fleet is not read again for a death already decided on');
});

test('a flapping machine and a partition are never acted on', async () => {
  const flapping = watchWith([{ main: 'dead' }, { main: 'alive' }, { main: 'dead' }, { main: 'alive' }, { main: 'dead' }, { main: 'alive' }], { deadRounds: 2 }, false);
  for (let i = 0; i < 6; i++) await flapping.next();
  assert.equal(flapping.events.filter((e) => e.type === 'incident-opened' || e.type === 'decision').length, 0);
  assert.equal(flapping.events.filter((e) => e.type === 'verdict').length, 6 + 2, 'every change is reported');
  const split = watchWith([{ main: 'unreachable-from-some' }], { deadRounds: 1, policy: { 'primary-down': 'auto' } }, false);
  for (let i = 0; i < 4; i++) await split.next();
  assert.equal(split.events.filter((e) => e.type === 'decision').length, 0);
});

test('notify alerts with the command a person should run; the incident closes when the machine answers again', async () => {
  const w = watchWith([{ edge: 'dead' }, { edge: 'dead' }, { edge: 'alive' }], { deadRounds: 2 }, false);
  for (let i = 0; i < 3; i++) await w.next();
  const decision = w.events.find((e) => e.type === 'decision');
  assert.ok(decision && decision.type === 'decision');
  assert.equal(decision.action, 'notified');
  assert.equal(decision.scenario, 'edge-down');
  assert.match(w.alerts[0]!.text, /lifeboat recover edge-down --failed edge/);
  assert.ok(w.events.some((e) => e.type === 'incident-closed' && e.machine === 'edge'));
});

test('the detector confirms a death after N rounds and forgets it when the machine answers', () => {
  const d = new Detector(2);
  assert.deepEqual(d.observe([verdict('a', 'dead')], 1).confirmedDead, []);
  assert.deepEqual(d.observe([verdict('a', 'dead')], 2).confirmedDead, ['a']);
  assert.deepEqual(d.observe([verdict('a', 'alive')], 3), { changed: [verdict('a', 'alive')], confirmedDead: [], revived: ['a'], flapping: [] });
  assert.throws(() => new Detector(0), RangeError);
});

test('a death counts only once it has lasted deadForS: back-to-back rounds over a 2 s cut are a blip', () => {
  const d = new Detector(2, 2000);
  // Two rounds 1.5 s apart both see the machine dead: enough rounds, not long enough.
  assert.deepEqual(d.observe([verdict('a', 'dead')], 10_000).confirmedDead, []);
  assert.equal(d.confirmationDue(), 12_000, 'the round that can confirm it is due 2 s after the first');
  assert.deepEqual(d.observe([verdict('a', 'dead')], 11_500).confirmedDead, []);
  assert.deepEqual(d.observe([verdict('a', 'alive')], 13_000).confirmedDead, [], 'it came back: never confirmed');
  assert.equal(d.confirmationDue(), undefined);
  // Dead from 20 s on and still dead at 22 s: confirmed.
  d.observe([verdict('a', 'dead')], 20_000);
  assert.deepEqual(d.observe([verdict('a', 'dead')], 22_000).confirmedDead, ['a']);
  assert.equal(d.confirmationDue(), undefined, 'nothing left to confirm');
  assert.throws(() => new Detector(2, -1), RangeError);
});

test('a death lasts from the first dead round\'s start to the confirming round\'s end: the confirming round is due a round\'s length early', () => {
  const d = new Detector(2, 2000);
  // The first dead round waited out its 1 s time-outs: 10.0 → 11.0 s.
  d.observe([verdict('a', 'dead')], 10_000, 11_000);
  assert.equal(d.confirmationDue(), 11_000, 'due 1 s early, to end 2 s after the first round started');
  // A confirming round that answers at once (11.0 → 11.2 s) has not seen 2 s: no confirmation,
  // and the next one is due as much later as that round was shorter.
  assert.deepEqual(d.observe([verdict('a', 'dead')], 11_000, 11_200).confirmedDead, []);
  assert.equal(d.confirmationDue(), 11_800);
  assert.deepEqual(d.observe([verdict('a', 'dead')], 11_800, 12_010).confirmedDead, ['a'], 'dead from 10.0 s to 12.01 s: 2 s and more');
});

test('a suspect that answers between rounds is not dead: its streak ends, and dying again twice is flapping', () => {
  const d = new Detector(2, 2000);
  d.observe([verdict('a', 'alive')], 0);
  d.observe([verdict('a', 'dead')], 1000);
  assert.deepEqual(d.suspects(), ['a']);
  assert.equal(d.seenUp('a', 1500), true);
  assert.deepEqual(d.suspects(), []);
  assert.equal(d.confirmationDue(), undefined);
  assert.equal(d.seenUp('a', 1600), false, 'nothing left to end');
  // Dead again at 3 s and 5 s: a new streak from 3 s, and the second death after an answer.
  assert.deepEqual(d.observe([verdict('a', 'dead')], 3000).flapping, ['a']);
  assert.deepEqual(d.observe([verdict('a', 'dead')], 5000).confirmedDead, [], 'flapping: it must stay dead three times as many rounds');
});

test('the daemon watches a suspect between rounds: a link up for seconds between two dead rounds is never failed over', async () => {
  const events: WatchEvent[] = [];
  let rounds = 0;
  const asked: string[] = [];
  const watch = new Watch({
    ctx: { fleet } as unknown as ActionContext,
    journal,
    // Rounds 0.5 s apart, dead for 2 rounds over at least 0.5 s.
    settings: { ...watchSchema.parse({ intervalS: 0.5, deadRounds: 2 }), policy: { 'primary-down': 'auto' } },
    observe: true,
    alerter: new Alerter([], () => undefined),
    emit: (e) => events.push(e),
    // Every round sees main dead: rounds alone would confirm it at the second.
    judge: async (machines) => { rounds++; return machines.map((m) => verdict(m, m === 'main' ? 'dead' : 'alive')); },
    status: async () => status,
    // Between rounds it answers (its link is up then).
    answers: async (m) => { asked.push(m); return true; },
  });
  const stop = new AbortController();
  const running = watch.run(stop.signal);
  await new Promise((resolve) => setTimeout(resolve, 2200));
  stop.abort();
  await running;
  assert.ok(rounds >= 3, `rounds: ${rounds}`);
  assert.ok(asked.length > 0 && asked.every((m) => m === 'main'), 'only the suspect is watched');
  assert.ok(events.some((e) => e.type === 'verdict' && e.kind === 'alive' && /answered the daemon between rounds/.test(e.reason)));
  assert.equal(events.filter((e) => e.type === 'incident-opened' || e.type === 'decision').length, 0, 'no incident, no decision');
});

test('a round that could not tell does not break a death being established, for at most deadRounds rounds in a row', () => {
  const d = new Detector(2);
  const seq = (kinds: VerdictKind[]) => kinds.map((k, i) => d.observe([verdict('a', k)], i).confirmedDead.length > 0);
  assert.deepEqual(seq(['alive', 'dead', 'unknown', 'dead']), [false, false, false, true], 'the unknown round waits');
  const e = new Detector(2);
  const seq2 = (kinds: VerdictKind[]) => kinds.map((k, i) => e.observe([verdict('b', k)], i).confirmedDead.length > 0);
  assert.deepEqual(seq2(['dead', 'unknown', 'unknown', 'unknown', 'dead', 'dead']), [false, false, false, false, false, true], 'three unknowns in a row start again');
  const f = new Detector(2);
  const flaps = ['alive', 'dead', 'unknown', 'dead', 'unknown', 'dead'].map((k, i) => f.observe([verdict('c', k as VerdictKind)], i).flapping);
  assert.deepEqual(flaps.flat(), [], 'dead and unknown in turn is not a machine coming back');
});

test('a machine that dies and comes back twice is flapping: it must stay dead three times as long', async () => {
  const script: Array<Record<string, VerdictKind>> = [{ main: 'alive' }, { main: 'dead' }, { main: 'alive' }, { main: 'dead' }];
  const w = watchWith(script, { deadRounds: 2, policy: { 'primary-down': 'auto' } }, true);
  for (let i = 0; i < 4; i++) await w.next();
  const flapping = w.events.filter((e) => e.type === 'flapping');
  assert.equal(flapping.length, 1);
  assert.match(flapping[0]!.type === 'flapping' ? flapping[0]!.detail : '', /stay dead 6 rounds/);
  for (let i = 0; i < 4; i++) await w.next(); // dead for 5 rounds in a row: not yet
  assert.equal(w.events.filter((e) => e.type === 'decision').length, 0);
  await w.next(); // the sixth
  assert.equal(w.events.filter((e) => e.type === 'decision').length, 1);
});

test('the fleet file refuses a policy for an unknown scenario', () => {
  assert.throws(() => parseFleet(`version: 1
name: w
machines: [{ name: a, address: 192.0.2.1, roles: [edge] }]
watch: { policy: { primary-dwn: auto } }
`, 'bad.yaml'), /primary-dwn/);
});

test("blocked from the users' side: confirmed over N reports, alerted, never a failover; a silent users' side is said aloud", async () => {
  let store!: UsersSideStore;
  const inside: NonNullable<WatchOptions['usersSide']>['inside'] = {
    view: (alive) => ({ alive, ports: [{ machine: 'edge', address: '192.0.2.1', port: 80, seen: 'open' }], names: new Map([['a.example.com', ['192.0.2.1']]]) }),
  };
  const w = watchWith([{}], { rounds: { 'ip-blocked': 2 }, policy: { 'edge-down': 'auto' } }, false, (now) => {
    store = new UsersSideStore(15_000, now);
    return { store, inside };
  });
  const cut = { probe: 'office', names: [], ports: [22, 80].map((port) => ({ machine: 'edge', address: '192.0.2.1', port, seen: 'silent' as const })) };
  store.add(cut);
  await w.next();
  await w.next(); // no new report: not a second evaluation
  assert.equal(w.events.filter((e) => e.type === 'blocked').length, 0, 'one report is one round');
  store.add(cut);
  await w.next();
  const blocked = w.events.filter((e) => e.type === 'blocked');
  assert.equal(blocked.length, 1);
  assert.deepEqual([blocked[0]!.kind, blocked[0]!.target, blocked[0]!.policy], ['ip-blocked', 'edge', 'notify']);
  assert.ok(blocked[0]!.evidence.some((r) => r.vantage === 'users:office' && r.seen === 'silent'));
  assert.match(w.alerts.at(-1)!.text, /No machine is failed over for this/);
  assert.equal(w.events.filter((e) => e.type === 'decision' || e.type === 'incident-opened').length, 0, 'no recovery for a blocked machine');
  // The probe stops reporting: after three intervals the daemon says it cannot see.
  for (let i = 0; i < 16; i++) await w.next();
  const silent = w.events.filter((e) => e.type === 'users-side');
  assert.equal(silent.length, 1);
  assert.match(silent[0]!.type === 'users-side' ? silent[0]!.detail : '', /no users'-side probe has reported for 1\d s/);
  assert.equal(w.events.filter((e) => e.type === 'unblocked').length, 0, 'silence is not "unblocked"');
  store.add({ ...cut, ports: cut.ports.map((p) => ({ ...p, seen: 'open' as const })) });
  await w.next();
  assert.ok(w.events.some((e) => e.type === 'users-side' && e.state === 'back'));
  assert.ok(w.events.some((e) => e.type === 'unblocked' && e.target === 'edge'));
});

test('a daemon killed mid-recovery: its successor resumes the interrupted automatic run first, even one that changed nothing yet', async () => {
  const own = Journal.open(join(dir, 'resume.db'));
  try {
    const interrupted = own.createRun({ scenario: 'primary-down', input: { failed: 'main' }, mode: 'auto', fleet: 'w', automatic: true, steps: [] });
    own.createRun({ scenario: 'edge-down', input: { failed: 'edge' }, mode: 'auto', fleet: 'w', automatic: false, steps: [] });
    const events: WatchEvent[] = [];
    const w = new Watch({
      ctx: { fleet } as unknown as ActionContext, journal: own, settings: watchSchema.parse({}), observe: false,
      alerter: new Alerter([], () => undefined), emit: (e) => events.push(e),
      judge: async (machines) => machines.map((m) => verdict(m, 'alive')), status: async () => status,
    });
    const stop = new AbortController();
    stop.abort();
    await w.run(stop.signal);
    const resumed = events.filter((e) => e.type === 'decision' && e.action === 'resumed');
    assert.equal(resumed.length, 1, 'only the automatic run is the daemon\'s to resume');
    assert.equal(resumed[0]!.type === 'decision' && resumed[0]!.detail, `run ${interrupted}`);
  } finally {
    own.close();
  }
});

test('conditions on living machines: read every health interval beside the rounds, confirmed over N readings, alerted, never acted on', async () => {
  const alive: Array<ReadonlySet<string>> = [];
  let broken = true;
  const w = watchWith([{ edge: 'dead' }, {}], { health: { intervalS: 5, diskFullPercent: 90, backupMaxAgeS: 3600, binlogMaxLagS: 60, certWarnDays: 14 }, policy: { 'primary-down': 'auto' } }, false, undefined, async (_ctx, living) => {
    alive.push(living);
    const services = [{ name: 'web', state: broken ? 'stopped' as const : 'running' as const, healthy: !broken, detail: broken ? 'not running' : 'ok' }];
    return {
      status: { ...status, machines: status.machines.map((m) => ({ ...m, reachable: true, services: m.name === 'main' ? services : [] })) },
      disks: [], diskErrors: [{ machine: 'standby', error: 'ssh timed out' }], backups: [], certs: [],
    };
  });
  await w.next(); // edge dead, not yet decided on: no reading beside a coming recovery
  assert.equal(alive.length, 0);
  for (let i = 0; i < 5; i++) await w.next(); // one reading
  assert.equal(alive.length, 1);
  assert.deepEqual([...alive[0]!].sort(), ['edge', 'main', 'standby'], 'the machines judged alive are read');
  assert.equal(w.events.filter((e) => e.type === 'condition').length, 0, 'one reading is one round');
  assert.ok(w.events.some((e) => e.type === 'unreadable' && /disks of standby: ssh timed out/.test(e.detail)));
  for (let i = 0; i < 5; i++) await w.next();
  const found = w.events.filter((e) => e.type === 'condition');
  assert.equal(found.length, 1);
  assert.ok(found[0]!.type === 'condition' && found[0]!.kind === 'service-down' && found[0]!.target === 'main/web');
  assert.equal(w.events.filter((e) => e.type === 'decision').length, 0, 'a condition starts nothing');
  broken = false;
  for (let i = 0; i < 5; i++) await w.next();
  assert.ok(w.events.some((e) => e.type === 'condition-cleared' && e.target === 'main/web'));
  assert.equal(w.events.filter((e) => e.type === 'unreadable').length, 1, 'the same unreadable part is said once');
});

test('approving a plan (the dashboard): recorded as the person\'s, once; refused for what is not a waiting plan, and in observe mode', () => {
  const plan = () => {
    const id = journal.createRun({ scenario: 'primary-down', input: { failed: 'main' }, mode: 'plan', fleet: fleet.name, steps: [] });
    journal.finishRun(id, 'planned');
    return id;
  };
  const w = watchWith([{}], {}, false);
  const id = plan();
  assert.equal(w.watch.approve(id, 'ana').id, id);
  assert.deepEqual(journal.run(id).acknowledgements.map((a) => [a.by, a.comment]), [['ana', 'approved']]);
  assert.throws(() => w.watch.approve(id, 'bo'), /already decided: approved by ana/);
  const done = journal.createRun({ scenario: 'primary-down', input: { failed: 'main' }, mode: 'auto', fleet: fleet.name, steps: [] });
  journal.finishRun(done, 'recovered');
  assert.throws(() => w.watch.approve(done, 'ana'), /recovered, not a plan waiting for approval/);
  const observing = watchWith([{}], {}, true);
  assert.throws(() => observing.watch.approve(plan(), 'ana'), /observe mode/);
});

test('a machine out of service that answers again is named at once, once per return, for the rejoin policy', async () => {
  const afterFailover: Fleet = {
    ...fleet,
    machines: fleet.machines.map((m) => (m.name === 'main' ? { ...m, roles: [], down: { since: '2026-12-01T00:00:00Z', run: 'r1', roles: ['app', 'db-primary'] } } : m)),
  };
  const w = watchWith([{ main: 'dead' }, { main: 'dead' }, { main: 'alive' }, { main: 'alive' }, { main: 'dead' }, { main: 'alive' }], {}, false, undefined, undefined, afterFailover);
  await w.next();
  await w.next();
  assert.equal(w.events.filter((e) => e.type === 'incident-opened').length, 0, 'out of service and dead: nothing to do');
  await w.next();
  const opened = w.events.filter((e) => e.type === 'incident-opened');
  assert.equal(opened.length, 1);
  assert.match(opened[0]!.type === 'incident-opened' ? opened[0]!.why : '', /main is out of service in the fleet file .* answers again: what it ran as app, db-primary/);
  const decision = w.events.find((e) => e.type === 'decision');
  assert.ok(decision?.type === 'decision');
  assert.deepEqual([decision.scenario, decision.action, decision.detail], ['rejoin', 'notified', 'lifeboat recover rejoin --failed main']);
  await w.next();
  assert.equal(w.events.filter((e) => e.type === 'decision').length, 1, 'once per return');
  await w.next();
  await w.next();
  assert.equal(w.events.filter((e) => e.type === 'decision').length, 2, 'back again after dying again: named again');
  assert.ok(w.alerts.some((a) => /rejoin --failed main/.test(a.text)));
});
