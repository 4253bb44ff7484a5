/**
 * One drill, end to end, on a lab of its own: bring the lab up, prepare the fleet, start
 * bounded user traffic from the client host, inject the fault, run `lifeboat recover` from
 * the ops host exactly as an operator would, let traffic run on, then measure from the
 * client's own record: time to the first successful request per domain and service (RTO),
 * acknowledged writes and files lost (RPO), a singleton running twice.
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_PREPARE_OPTIONS } from '../../prepare/prepare-options.ts';
import { addBallast, ballastRows } from './ballast.ts';
import { limitLink } from '../network.ts';
import { loadFleet } from '../../fleet/load.ts';
import type { Fleet } from '../../fleet/schema.ts';
import { Lab } from '../lab.ts';
import { findStandby } from './standby.ts';
import { openRejoinWindow, rejoinPhase, type RejoinReport } from './rejoin-phase.ts';
import { planLab } from '../plan.ts';
import { REPO_IN_HOST } from '../paths.ts';
import { firstSuccessAfter, type Recovery } from '../traffic/analysis.ts';
import { isFileAck, readRecords, type TrafficRecord } from '../traffic/records.ts';
import { DrillRoleError, spareOf, type DrillCast, type DrillSpec } from './drills.ts';
import { planServices, trafficPlan } from '../traffic/plan.ts';
import type { VerifyOutput } from './verify-main.ts';
import { IN_HOST_CLI, startDaemon, waitForEvents, type DaemonHandle } from './daemon.ts';
import { restartedBetween, servicePids, survivorPrograms } from './restarts.ts';
import { BUSINESS_ANSWERS_TITLE, businessUrls } from '../../recovery/verify-business.ts';
import { forwardedServices } from '../../recovery/topology.ts';
import { shq } from '../../remote/remote.ts';
import { startCapture, type Capture } from './capture.ts';
import type { WireReport } from './wire.ts';

export interface DrillOptions {
  fleetFile: string;
  /** Lab id; default a fresh random one, so a drill never touches a lab a person has up. */
  labId?: string;
  /** Leave the lab up afterwards, for a look around. */
  keep?: boolean;
  /** Requests per second of the traffic generator. */
  rate?: number;
  /**
   * The watch daemon notices and recovers, no person involved: \`lifeboat serve\` runs on the
   * operator's host with the drill's scenario set to \`auto\`, before the fault.
   */
  auto?: boolean;
  /** With auto: SIGKILL the daemon this many seconds after it starts the recovery, then start it again. */
  killDaemonAfterS?: number;
  /** Something else that watches the lab through the fault (a bench's stopwatch, a peer tool). */
  observer?: DrillObserver;
  /**
   * Record every packet on the lab's switch into this pcap, from before prepare to the end,
   * with marker rows and keys planted in MariaDB and Redis; the report says what of the
   * lab's secrets and markers crossed in clear text (`wire`), and either is a problem.
   */
  capture?: string;
  /**
   * Drills that restore a backup: how long the traffic writes between the backup and the
   * fault (default the drill's own, 30 s), writes only a replay of the shipped log brings back.
   */
  backupAgeS?: number;
  /** primary-down: the recovery also builds a spare into the new backup (`--new-backup`, §4.3 step 9). */
  newBackup?: boolean;
  /** Grow the database to about this many MB before prepare (`ballast.ts`). */
  dbSizeMb?: number;
  /** The operator's host's line shaped to this many Mbit/s each way, from the fault on. */
  operatorLinkMbit?: number;
  log?: (line: string) => void;
}

/**
 * Runs beside a drill: started once the lab serves (and the daemon, with auto, watches),
 * asked after the recovery what it saw. A bench measures lifeboat and a peer failover tool
 * with the same stopwatch this way, on the same lab, fault and traffic.
 */
export interface DrillObserver {
  start(lab: Lab, cast: DrillCast): Promise<void>;
  /** After the recovery ends (with `replacesRecovery`: in its place), given the fault's time (epoch ms). */
  collect(faultAt: number): Promise<unknown>;
  /** Another tool recovers: lifeboat runs neither `recover` nor its daemon, and nothing lifeboat did is judged. */
  replacesRecovery?: boolean;
}

export interface DrillStep {
  title: string;
  seconds: number | null;
  outcome: string;
}

export interface DrillReport {
  scenario: string;
  ok: boolean;
  /** Fault to the first successful user request after it, any domain or service. */
  rtoSeconds: number | null;
  /** Fault to the end of the `lifeboat recover` run (with --auto: of the daemon's run). */
  recoverSeconds: number | null;
  /** The run's start to the end of its check that the business answers (later steps go on after it). */
  businessAnsweredSeconds: number | null;
  /**
   * Services on the machines the fault spared that the recovery restarted (`machine/service`):
   * none in primary-down where the services reach the database through stable endpoints.
   */
  restartedServices: string[];
  /** What the drill's observer reported, if it had one. */
  observed?: unknown;
  /** At the end: the machine that is a semi-sync replica of the serving primary holding every row; null when none is. */
  standby: string | null;
  /** Per machine looked at, why it is or is not the standby. */
  standbyChecked: Record<string, string>;
  /** With --capture: what crossed the lab's switch, and what of it in clear text. */
  wire?: WireReport;
  /** With --auto: who recovered (the daemon), and fault → the daemon's incident (its verdict confirmed). */
  auto: boolean;
  detectSeconds?: number | null;
  /** With --kill-daemon-after: when the daemon was killed, and whether its successor resumed the run. */
  daemonKilled?: { afterS: number; resumed: boolean };
  rtoByDomain: Record<string, number | null>;
  rtoByService: Record<string, number | null>;
  lostWrites: number;
  /** Acknowledged uploads lost that were older than the upload sync interval at the fault. */
  lostUploads: number;
  /** Uploads acknowledged within the sync interval before the fault and not on the backup yet. */
  uploadsInSyncWindow: number;
  /** False when no machine keeping the upload files survives the scenario. */
  uploadsChecked: boolean;
  /** Writes lost after the newest backup, when no replica survives (scenario 5, §4.4). */
  lostWritesAfterBackup?: number;
  /**
   * What may be lost: nothing (a replica survives), the writes of the last second before the
   * fault (a store shipping the binary log survives), those after the newest backup, or (the
   * rejoin drill) those made after the drill stopped the standby.
   */
  lossBound: 'none' | 'last-second' | 'newest-backup' | 'replica-stopped';
  /** The rejoin drill's second half: the old primary back, fenced, its own rows extracted. */
  rejoin?: RejoinReport;
  /** With --db-size: the database's size on the primary before the fault (MB, InnoDB's figure). */
  databaseMb?: number;
  /** With --operator-link: the operator's line during the recovery, Mbit/s each way. */
  operatorLinkMbit?: number;
  /**
   * edge-down with a replacement: the spare built as an edge, and what each of its domains
   * answered, asked from the users' side (the lab's client, through the lab's DNS), per URL.
   */
  newEdge?: { machine: string; domains: string[]; answers: Record<string, string> };
  /** The lost writes sent in the last second before the fault, each with how long before it. */
  lostWritesLastSecond?: Array<Record<string, unknown> & { beforeFaultS: number }>;
  /** How old the newest backup was at the fault: the window of writes a restore cannot have. */
  backupAgeSeconds?: number;
  doubleJobRuns: number;
  acknowledged: Record<string, number>;
  traffic: { requests: number; ok: number; failed: number };
  steps: DrillStep[];
  runId: string | null;
  problems: string[];
  labId: string;
}

const TSX = `node --import tsx`;
const TRAFFIC_FILE = '/tmp/lifeboat-drill-traffic.jsonl';
/**
 * The daemon's cadence in drills: a round every 2 s, a death confirmed by two rounds 2 s
 * apart with the suspect watched in between. A round a second was slower here (rounds that
 * wait out a dead machine take ~1.5 s, and the 2-core lab's load made every round slower).
 */
const SERVE_INTERVAL_S = 2;
const SERVE_ARGS = ['--interval', String(SERVE_INTERVAL_S), '--dead-rounds', '2'];
/** Seconds of traffic before the fault and after the recovery ends. */
const WARM_UP_S = 3;
const COOL_DOWN_S = 2;
const MAX_TRAFFIC_S = 240;

/** The fleet as the lab will have it: the spares `lab up` adds are there to be cast. */
export function withLabSpares(fleet: Fleet, labId = 'lb0'): Fleet {
  const spares = planLab(labId, fleet).hosts.filter((h) => h.kind === 'spare' && !fleet.machines.some((m) => m.name === h.name));
  return { ...fleet, machines: [...fleet.machines, ...spares.map((h) => ({ name: h.name, address: h.address, roles: ['spare' as const], domains: [], offsite: false }))] };
}

export async function runDrill(spec: DrillSpec, options: DrillOptions): Promise<DrillReport> {
  const log = options.log ?? (() => undefined);
  const labId = options.labId ?? `dr${randomBytes(2).toString('hex')}`;
  const problems: string[] = [];
  // Cast on the fleet as the lab will have it (its spares included), before a lab is built:
  // a fleet without the roles the drill needs is refused with nothing started.
  const fleet = await loadFleet(options.fleetFile);
  const cast = spec.cast(withLabSpares(fleet, labId));
  if (options.newBackup) {
    if ((spec.scenario ?? spec.name) !== 'primary-down') throw new DrillRoleError(`--new-backup belongs to the primary-down drill, not ${spec.name}`);
    cast.recover.push('--new-backup', spareOf(withLabSpares(fleet, labId), spec.name).name);
  }
  if (spec.rejoin && options.auto) throw new DrillRoleError(`drill ${spec.name} runs its recoveries itself: the daemon never accepts data loss on its own (no --auto)`);
  if (spec.rejoin && !fleet.database) throw new DrillRoleError(`drill ${spec.name} needs a database in the fleet file`);
  const scenario = spec.scenario ?? spec.name;
  if (planServices(trafficPlan(fleet)).length === 0) {
    throw new DrillRoleError(`drill ${spec.name} needs user traffic: no service the edges forward to (nginx.upstreams) writes to the database or keeps files`);
  }
  log(`drill ${spec.name}: lab ${labId} coming up`);
  let lab: Lab;
  try {
    lab = await Lab.up({ id: labId, fleetFile: options.fleetFile, log: (line) => log(`  ${line}`) });
  } catch (error) {
    // A lab that failed to come up is the drill's own: it goes, unless asked to stay for a look.
    if (options.keep) log(`lab ${labId} left up as it failed: lifeboat lab down --id ${labId}`);
    else await Lab.down(labId).catch((e: unknown) => log(`  lab ${labId} could not be taken down: ${(e as Error).message}`));
    throw error;
  }
  let capture: Capture | undefined;
  try {
    if (options.capture) {
      capture = await startCapture(lab, options.capture);
      await capture.plant();
      log(`  capturing the lab's switch into ${options.capture}`);
    }
    const fleetFile = lab.operatorFleetFile;
    const ops = (command: string, timeoutMs: number, stdin?: string) =>
      lab.exec('ops', `cd ${REPO_IN_HOST} && ${command}`, { timeoutMs, ...(stdin !== undefined ? { stdin } : {}) });
    const must = async (title: string, command: string, timeoutMs: number) => {
      const t0 = performance.now();
      const r = await ops(command, timeoutMs);
      if (r.code !== 0) {
        // The failed steps say why (a run reports them on stdout, its plan around them); then the end of stderr.
        const failed = r.stdout.split('\n').filter((l) => /✗|FAILED|error/i.test(l)).slice(-8);
        throw new Error(`${title} failed (exit ${r.code}): ${[...failed, ...r.stderr.trim().split('\n').slice(-8)].join('\n') || r.stdout.trim().split('\n').slice(-8).join('\n')}`);
      }
      log(`  ${title}: ${((performance.now() - t0) / 1000).toFixed(2)} s`);
    };
    const ballast = options.dbSizeMb ? await addBallast(lab, lab.fleet, options.dbSizeMb, log) : undefined;
    // Seeding the replica and copying a backup to every store scale with the data.
    const slowMs = 300_000 + (options.dbSizeMb ?? 0) * 600;
    if (spec.prepare) await must('prepare', `${IN_HOST_CLI} prepare --fleet ${fleetFile} --yes --state /tmp/lifeboat-state.db`, slowMs);
    // A second marker after prepare: replication, not the seed copy, carries this one.
    await capture?.plant();
    if (spec.backup) await must('backup', `${IN_HOST_CLI} backup run --fleet ${fleetFile}`, slowMs);
    const backupAt = spec.backup ? Date.now() : undefined;

    const plan = trafficPlan(lab.fleet);
    // A recovery with gigabytes to move (and a slow operator's line) outlasts the usual bound.
    const trafficS = MAX_TRAFFIC_S + Math.ceil((options.dbSizeMb ?? 0) * (options.operatorLinkMbit ? 8 / options.operatorLinkMbit + 0.1 : 0.1));
    const urls = lab.fleet.machines.filter((m) => m.roles.includes('edge')).flatMap((m) => m.domains).map((d) => `http://${d}`);
    const clientDir = lab.paths.host('client');
    await rm(join(clientDir, 'tmp', TRAFFIC_FILE.slice('/tmp/'.length)), { force: true });
    const traffic = lab.exec(
      'client',
      `cd ${REPO_IN_HOST} && ${TSX} src/lab/traffic/main.ts --urls ${urls.join(',')} --plan '${JSON.stringify(plan)}' --seconds ${trafficS} --rate ${options.rate ?? 20} --out ${TRAFFIC_FILE} --timeout-ms 1000`,
      { timeoutMs: (trafficS + 60) * 1000 },
    );
    const recordsFile = join(clientDir, 'tmp', TRAFFIC_FILE.slice('/tmp/'.length));
    await waitForTraffic(recordsFile, WARM_UP_S * 1000, 60_000);

    let daemon: DaemonHandle | undefined;
    const observer = options.observer;
    if (options.auto && !observer?.replacesRecovery) {
      daemon = await startDaemon(lab, { fleetFile, args: ['--policy', `${scenario}=auto`, ...SERVE_ARGS], timeoutMs: (MAX_TRAFFIC_S + 120) * 1000 });
      // The daemon's first round judges every machine: from then on it is watching.
      await waitForEvents(daemon.file, (events) => events.filter((e) => e.type === 'verdict').length >= lab.fleet.machines.length, 60_000, 'the daemon did not judge every machine');
      log('  daemon watching');
    }

    if (observer) await observer.start(lab, cast);
    const survivors = survivorPrograms(lab.fleet, cast.faults);
    const pidsOf = () => servicePids((host, command) => lab.exec(host, command, { timeoutMs: 15_000 }), survivors);
    const pidsBefore = await pidsOf();
    // A fault falls at any moment of the daemon's rhythm: a fixed delay after its first
    // round would measure one phase of it only (which one, the drill's own pace decides).
    if (daemon) await new Promise((resolve) => setTimeout(resolve, Math.random() * SERVE_INTERVAL_S * 1000));
    // Writes after the backup that only a replay of the shipped binary log brings back.
    const minBackupAgeS = spec.minBackupAgeS === undefined ? undefined : options.backupAgeS ?? spec.minBackupAgeS;
    if (backupAt !== undefined && minBackupAgeS) {
      const wait = backupAt + minBackupAgeS * 1000 - Date.now();
      if (wait > 0) {
        log(`  ${Math.ceil(wait / 1000)} s more traffic after the backup before the fault`);
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
    // The rejoin drill: the standby stops receiving and the primary commits rows alone.
    const rejoinWindow = spec.rejoin ? await openRejoinWindow(lab, cast, rejoinPrimary(cast), fleet.database!.schema) : undefined;
    if (rejoinWindow) log(`  ${cast.databaseAfter} stopped receiving; ${rejoinWindow.markers.length} rows committed on ${rejoinPrimary(cast)} alone`);
    if (options.operatorLinkMbit) {
      await limitLink(lab.id, lab.host('ops'), options.operatorLinkMbit);
      log(`  the operator's line shaped to ${options.operatorLinkMbit} Mbit/s each way`);
    }
    const faultAt = Date.now();
    await Promise.all(cast.faults.map((f) => lab.fault(f)));
    // Requests sent while the fault was being put in place may still have been served by the
    // dying machine: only requests sent after it is complete count as served after the fault.
    const faultInPlaceAt = Date.now();
    log(`  fault injected: ${cast.faults.map((f) => `${f.kind} ${'host' in f ? f.host : ''}`).join(', ')}`);

    let recover: { code: number | null; stdout: string; stderr: string };
    let recoverSeconds: number;
    let detectSeconds: number | null | undefined;
    let daemonKilled: DrillReport['daemonKilled'];
    if (daemon && options.killDaemonAfterS !== undefined) {
      const started = await waitForEvents(daemon.file, (ev) => ev.some((e) => e.type === 'decision'), 300_000, 'the daemon took no decision');
      const decision = started.find((e) => e.type === 'decision');
      if (decision?.type === 'decision' && decision.action === 'started') {
        await new Promise((resolve) => setTimeout(resolve, options.killDaemonAfterS! * 1000));
        const before = await daemon.events();
        await daemon.kill();
        log(`  daemon killed (SIGKILL) ${options.killDaemonAfterS} s into its recovery`);
        if (before.some((e) => e.type === 'recovery-finished')) problems.push(`the recovery finished before the daemon was killed: choose a shorter --kill-daemon-after than ${options.killDaemonAfterS} s`);
        daemon = await startDaemon(lab, { fleetFile, append: true, args: ['--policy', `${scenario}=auto`, ...SERVE_ARGS], timeoutMs: (MAX_TRAFFIC_S + 120) * 1000 });
        const resumed = await waitForEvents(daemon.file, (ev) => ev.filter((e) => e.type === 'started').length >= 2 && ev.some((e) => e.type === 'recovery-finished' || (e.type === 'decision' && e.action === 'resumed')), 120_000, 'the restarted daemon neither resumed nor finished the run')
          .then((ev) => ev.some((e) => e.type === 'decision' && e.action === 'resumed'), () => false);
        daemonKilled = { afterS: options.killDaemonAfterS, resumed };
        if (!resumed) problems.push('the restarted daemon did not resume the interrupted run from the journal');
      } else {
        problems.push(`the daemon started no recovery to kill it in: ${JSON.stringify(decision)}`);
      }
    }
    let observed: unknown;
    if (observer?.replacesRecovery) {
      observed = await observer.collect(faultAt);
      recoverSeconds = (Date.now() - faultAt) / 1000;
      recover = { code: 0, stdout: '', stderr: '' };
    } else if (daemon) {
      const events = await waitForEvents(daemon.file, (ev) => ev.some((e) => e.type === 'recovery-finished' || (e.type === 'decision' && e.action !== 'started' && e.action !== 'resumed')), 600_000, 'the daemon did not finish a recovery');
      problems.push(...(await daemon.stop()));
      const opened = events.find((e) => e.type === 'incident-opened');
      const finished = events.find((e) => e.type === 'recovery-finished');
      detectSeconds = opened ? Math.round(Date.parse(opened.at) - faultAt) / 1000 : null;
      recoverSeconds = finished ? (Date.parse(finished.at) - faultAt) / 1000 : (Date.now() - faultAt) / 1000;
      if (!finished) problems.push(`the daemon started no recovery: ${JSON.stringify(events.filter((e) => e.type === 'decision' || e.type === 'error'))}`);
      for (const e of events) if (e.type === 'roles' && !e.recorded) problems.push(`the daemon recovered but ${e.detail}`);
      const shown = finished ? await ops(`${IN_HOST_CLI} runs show ${finished.runId} --json --state /tmp/lifeboat-state.db`, 60_000) : undefined;
      const ok = finished?.outcome === 'recovered';
      recover = { code: ok ? 0 : 1, stdout: shown?.stdout ?? '', stderr: ok ? '' : `daemon: ${events.filter((e) => e.type === 'error').map((e) => e.message).join(' | ')} ${await daemon.stderr()}` };
      log(`  daemon: incident after ${detectSeconds ?? '—'} s, ${finished?.outcome ?? 'no recovery'} at ${recoverSeconds.toFixed(2)} s`);
    } else {
      const t0 = performance.now();
      recover = await ops(`${IN_HOST_CLI} recover ${scenario} --fleet ${fleetFile} ${cast.recover.join(' ')} --yes --json --state /tmp/lifeboat-state.db`, 600_000);
      recoverSeconds = (performance.now() - t0) / 1000;
    }
    if (observer && !observer.replacesRecovery) observed = await observer.collect(faultAt);
    const run = parseRun(recover.stdout);
    const restartedServices = restartedBetween(pidsBefore, await pidsOf());
    await removeKeptAside(lab, cast.databaseAfter, recover.stdout + recover.stderr);
    if (recover.code !== 0) problems.push(`lifeboat recover exited ${recover.code}: ${recover.stderr.trim().split('\n').slice(-6).join(' | ')}`);
    if (observer?.replacesRecovery) log(`  observer done ${recoverSeconds.toFixed(2)} s after the fault (lifeboat recovered nothing)`);
    else log(`  recover: ${recover.code === 0 ? 'recovered' : 'FAILED'} in ${recoverSeconds.toFixed(2)} s`);

    await new Promise((resolve) => setTimeout(resolve, COOL_DOWN_S * 1000));
    await stopTraffic(lab);
    const trafficResult = await traffic;
    if (trafficResult.code !== 0 && trafficResult.signal === null && trafficResult.code !== 143) {
      problems.push(`traffic generator exited ${trafficResult.code}: ${trafficResult.stderr.trim().slice(-300)}`);
    }
    const records = await readRecords(recordsFile);
    const after = shiftedTo(firstSuccessAfter(records, faultInPlaceAt), faultInPlaceAt - faultAt);

    const verify = await ops(
      `${TSX} src/lab/drill/verify-main.ts`,
      120_000,
      JSON.stringify({ fleetFile, databaseAfter: cast.databaseAfter, uploadsAfter: cast.uploadsAfter, records: records.filter((r) => r.ok && r.ack) }),
    );
    let verdict: VerifyOutput = { checked: {}, missing: [], doubleJobRuns: 0 };
    if (verify.code === 0) verdict = JSON.parse(verify.stdout) as VerifyOutput;
    else problems.push(`verification failed: ${verify.stderr.trim().split('\n').slice(-4).join(' | ')}`);

    // The old primary comes back and is rejoined; then it is the standby looked for below.
    let rejoin: RejoinReport | undefined;
    if (rejoinWindow) {
      const phase = await rejoinPhase(lab, rejoinPrimary(cast), rejoinWindow, (host, command) => lab.exec(host, `cd ${REPO_IN_HOST} && ${command}`, { timeoutMs: 600_000 }), `${IN_HOST_CLI}`, `--fleet ${fleetFile} --state /tmp/lifeboat-state.db`);
      rejoin = phase.report;
      problems.push(...phase.problems);
      log(`  rejoin: ${rejoin.outcome} in ${rejoin.seconds ?? '—'} s, fenced ${rejoin.fencedAfterS ?? '—'} s after power-on, ${rejoin.markersInExtract} of ${rejoin.markersWritten} rows in ${rejoin.extractFile ?? 'no extract'}`);
    }
    // The new edge, seen as the users see it: its own domains, resolved and asked from the client.
    let newEdge: DrillReport['newEdge'];
    if (cast.newEdge && recover.code === 0) {
      newEdge = { ...cast.newEdge, answers: await askFromClient(lab, lab.fleet, cast.newEdge.domains) };
      for (const [url, answer] of Object.entries(newEdge.answers)) if (answer !== 'ok') problems.push(`the new edge ${cast.newEdge.machine} does not serve the users: ${url}: ${answer}`);
      log(`  new edge ${cast.newEdge.machine}: ${Object.values(newEdge.answers).filter((a) => a === 'ok').length} of ${Object.keys(newEdge.answers).length} URL(s) answered from the client`);
    }
    if (ballast && recover.code === 0) {
      const held = await ballastRows(lab, cast.databaseAfter, lab.fleet.database!.schema);
      if (held !== ballast.rows) problems.push(`${cast.databaseAfter} holds ${held ?? 'no readable count of'} of the ${ballast.rows} rows the database was grown with`);
    }
    // Who could take over next: a semi-sync replica of the serving primary with every row.
    const standby = fleet.database ? await findStandby(lab, cast.databaseAfter, fleet.database.schema) : { machine: null, checked: {} };

    let wire: WireReport | undefined;
    if (capture) {
      wire = await capture.finish();
      capture = undefined;
      if (wire.secretsInClear.length) problems.push(`secrets crossed the lab's switch in clear text: ${wire.secretsInClear.join(', ')}`);
      if (wire.markersInClear) problems.push(`${wire.markersInClear} of ${wire.markersPlanted} marker value(s) planted in MariaDB and Redis crossed the switch in clear text`);
      if (!wire.controlSeen) problems.push('the capture holds no clear HTTP at all: it proves nothing about clear text');
    }
    const measured = report(spec, cast, { labId, run, recoverSeconds, records, after, verdict, faultAt, backupAt, ...(rejoinWindow ? { replicaStoppedAt: rejoinWindow.stoppedAt } : {}), problems, recoverOk: recover.code === 0 && verify.code === 0, auto: options.auto ?? false, detectSeconds, daemonKilled, restartedServices });
    return { ...measured, ...(ballast ? { databaseMb: ballast.databaseMb } : {}), ...(options.operatorLinkMbit ? { operatorLinkMbit: options.operatorLinkMbit } : {}), ...(rejoin ? { rejoin } : {}), ...(newEdge ? { newEdge } : {}), standby: standby.machine, standbyChecked: standby.checked, ...(observer ? { observed } : {}), ...(wire ? { wire } : {}) };
  } finally {
    // A drill that failed half-way still stops its tcpdump.
    await capture?.finish().catch(() => undefined);
    if (options.keep) log(`lab ${labId} left up: lifeboat lab down --id ${labId}`);
    else await lab.down();
  }
}

interface RunJson {
  id: string;
  outcome: string;
  /** ISO times, as `--json` prints them. */
  startedAt?: string | null;
  steps: Array<{ title: string; parent: number | null; durationMs: number | null; state: string; endedAt?: string | null }>;
}

/**
 * Each forwarded service's health URL on each domain, asked from the lab's client host with
 * curl (its resolver is the lab's DNS, as the users'): `ok`, or what came back instead.
 */
async function askFromClient(lab: Lab, fleet: Fleet, domains: readonly string[]): Promise<Record<string, string>> {
  const urls = businessUrls(fleet, domains, forwardedServices(fleet, Object.keys(fleet.services)));
  const answers: Record<string, string> = {};
  await Promise.all(urls.map(async ({ url, expect }) => {
    const r = await lab.exec('client', `curl -sS -o /dev/null --max-time 5 -w '%{http_code}' ${shq(url)}`, { timeoutMs: 15_000 });
    const status = Number(r.stdout.trim());
    answers[url] = r.code !== 0 || !status ? `no answer (${r.stderr.trim().split('\n').pop() || `curl exited ${r.code}`})`
      : expect === 'reached' || status === expect ? 'ok' : `answered ${status}, expected ${expect}`;
  }));
  return answers;
}

/** The run's start → the end of its check that the business answers: what users wait for; later steps aside. */
export function businessAnsweredAfter(run: RunJson | undefined): number | null {
  const check = run?.steps.find((s) => s.parent === null && s.title.startsWith(BUSINESS_ANSWERS_TITLE));
  if (!run?.startedAt || !check?.endedAt) return null;
  const ms = Date.parse(check.endedAt) - Date.parse(run.startedAt);
  return Number.isFinite(ms) ? Math.round(ms) / 1000 : null;
}

function parseRun(stdout: string): RunJson | undefined {
  const start = stdout.indexOf('{');
  if (start < 0) return undefined;
  try {
    return JSON.parse(stdout.slice(start)) as RunJson;
  } catch {
    return undefined;
  }
}

async function waitForTraffic(file: string, warmUpMs: number, limitMs: number): Promise<void> {
  const deadline = Date.now() + limitMs;
  let firstOk: number | undefined;
  while (Date.now() < deadline) {
    const records = await readRecords(file).catch(() => [] as TrafficRecord[]);
    firstOk ??= records.find((r) => r.ok)?.t;
    if (firstOk !== undefined && Date.now() - firstOk >= warmUpMs) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`no successful user request within ${limitMs / 1000} s of starting the traffic: the lab does not serve`);
}

/** SIGTERM to the generator: it stops sending and flushes its records. */
async function stopTraffic(lab: Lab): Promise<void> {
  await lab.exec('client', `pkill -TERM -f ${TRAFFIC_FILE} || true`, { timeoutMs: 10_000 });
}

interface Measured {
  labId: string;
  run: RunJson | undefined;
  recoverSeconds: number;
  records: TrafficRecord[];
  after: Recovery;
  verdict: VerifyOutput;
  faultAt: number;
  backupAt: number | undefined;
  /** The rejoin drill: when the standby stopped receiving (writes after it live on the old primary alone). */
  replicaStoppedAt?: number;
  problems: string[];
  recoverOk: boolean;
  auto: boolean;
  detectSeconds: number | null | undefined;
  daemonKilled: DrillReport['daemonKilled'];
  restartedServices: string[];
}

function report(spec: DrillSpec, cast: DrillCast, m: Measured): Omit<DrillReport, 'standby' | 'standbyChecked'> {
  const seconds = (ms: number | undefined | null) => (ms === undefined || ms === null ? null : Math.round(ms) / 1000);
  const ackTime = new Map(m.records.filter((r) => r.ack).map((r) => [JSON.stringify(r.ack), r.t]));
  const missing = m.verdict.missing.map((a) => ({ ack: a, t: ackTime.get(JSON.stringify(a)) ?? 0 }));
  // Uploads reach the backup every sync interval: the newest ones may still be on their way
  // when the primary dies. Older ones must all be there.
  const syncWindowStart = m.faultAt - (DEFAULT_PREPARE_OPTIONS.uploadSyncIntervalS + 1) * 1000;
  const uploads = missing.filter((x) => isFileAck(x.ack));
  const uploadsInSyncWindow = uploads.filter((x) => x.t >= syncWindowStart).length;
  const lostUploads = uploads.length - uploadsInSyncWindow;
  const lostWrites = missing.length - uploads.length;
  const afterBackup = m.backupAt === undefined ? 0 : missing.filter((x) => !isFileAck(x.ack) && x.t >= m.backupAt!).length;
  // Sent in the last second before the fault: a transaction the primary acknowledged but had
  // not yet streamed to a store when it died.
  const lastSecond = missing.filter((x) => !isFileAck(x.ack) && x.t >= m.faultAt - 1000);
  const problems = [...m.problems];
  // The rejoin drill gives up what was written after the standby stopped (--accept-data-loss):
  // those writes are the old primary's alone; the rejoin extracts them (the report checks the
  // drill's own marker rows in the extract, not each of these).
  const afterStop = m.replicaStoppedAt === undefined ? 0 : missing.filter((x) => !isFileAck(x.ack) && x.t >= m.replicaStoppedAt!).length;
  const lossBound: DrillReport['lossBound'] = m.replicaStoppedAt !== undefined ? 'replica-stopped' : !spec.lossBoundedByBackup ? 'none' : cast.binlogsSurvive ? 'last-second' : 'newest-backup';
  const allowedLoss = lossBound === 'none' ? 0 : lossBound === 'last-second' ? lastSecond.length : lossBound === 'replica-stopped' ? afterStop : afterBackup;
  if (lostWrites > allowedLoss) {
    const older = missing.filter((x) => !isFileAck(x.ack) && !(lossBound === 'last-second' ? x.t >= m.faultAt - 1000 : lossBound === 'newest-backup' ? x.t >= (m.backupAt ?? 0) : lossBound === 'replica-stopped' ? x.t >= (m.replicaStoppedAt ?? 0) : false));
    problems.push(`${lostWrites - allowedLoss} acknowledged write(s) lost that the recovery must keep (sent ${older.slice(0, 5).map((x) => `${((m.faultAt - x.t) / 1000).toFixed(1)} s`).join(', ')} before the fault)`);
  }
  if (lostUploads > 0) {
    const ages = uploads.filter((x) => x.t < syncWindowStart).map((x) => ((m.faultAt - x.t) / 1000).toFixed(1));
    problems.push(`${lostUploads} acknowledged upload(s) older than the sync interval lost (acknowledged ${ages.join(', ')} s before the fault)`);
  }
  if (m.verdict.doubleJobRuns > 0) problems.push(`a singleton service ran twice at once ${m.verdict.doubleJobRuns} time(s)`);
  if (!m.after.overall) problems.push('no user request succeeded after the fault');
  const byDomain = Object.fromEntries(Object.entries(m.after.byDomain).map(([d, f]) => [d, seconds(f?.afterMs)]));
  const byService = Object.fromEntries(Object.entries(m.after.byService).map(([s, f]) => [s, seconds(f?.afterMs)]));
  const steps: DrillStep[] = (m.run?.steps ?? []).map((s) => ({ title: `${s.parent === null ? '' : '  '}${s.title}`, seconds: seconds(s.durationMs), outcome: s.state }));
  return {
    scenario: spec.name,
    ok: m.recoverOk && problems.length === 0,
    rtoSeconds: seconds(m.after.overall?.afterMs),
    recoverSeconds: Math.round(m.recoverSeconds * 1000) / 1000,
    businessAnsweredSeconds: businessAnsweredAfter(m.run),
    restartedServices: m.restartedServices,
    auto: m.auto,
    ...(m.auto ? { detectSeconds: m.detectSeconds ?? null } : {}),
    ...(m.daemonKilled ? { daemonKilled: m.daemonKilled } : {}),
    rtoByDomain: byDomain,
    rtoByService: byService,
    lostWrites,
    lostUploads,
    uploadsInSyncWindow,
    uploadsChecked: cast.uploadsAfter !== undefined,
    lossBound,
    ...(spec.lossBoundedByBackup ? { lostWritesAfterBackup: afterBackup, lostWritesLastSecond: lastSecond.map((x) => ({ ...x.ack, beforeFaultS: Math.round(m.faultAt - x.t) / 1000 })) } : {}),
    ...(m.backupAt !== undefined ? { backupAgeSeconds: Math.round((m.faultAt - m.backupAt) / 100) / 10 } : {}),
    doubleJobRuns: m.verdict.doubleJobRuns,
    acknowledged: m.verdict.checked,
    traffic: { requests: m.records.length, ok: m.records.filter((r) => r.ok).length, failed: m.records.filter((r) => !r.ok).length },
    steps,
    runId: m.run?.id ?? null,
    problems,
    labId: m.labId,
  };
}

/** The machine the rejoin drill powers off and brings back: its one machine-down fault. */
function rejoinPrimary(cast: DrillCast): string {
  const f = cast.faults.find((x) => x.kind === 'machine-down');
  if (!f || !('host' in f)) throw new Error('the rejoin drill powers off one machine');
  return f.host;
}

/** Times measured from the fault being in place, re-expressed from the fault's start. */
function shiftedTo(recovery: Recovery, offsetMs: number): Recovery {
  const shift = (f: Recovery['overall']) => (f ? { ...f, afterMs: f.afterMs + offsetMs } : null);
  return {
    overall: shift(recovery.overall),
    byDomain: Object.fromEntries(Object.entries(recovery.byDomain).map(([k, v]) => [k, shift(v)])),
    byService: Object.fromEntries(Object.entries(recovery.byService).map(([k, v]) => [k, shift(v ?? null)])),
  };
}

/**
 * A physical restore keeps the replaced data folder beside the data folder, for undo. Lab
 * hosts share the machine's /var (only /var/lib/mysql is their own), so that folder would
 * outlive the lab: the drill removes exactly the one its run names.
 */
async function removeKeptAside(lab: Lab, host: string, output: string): Promise<void> {
  const kept = [...new Set(output.match(/\/var\/lib\/mysql\.lifeboat-before-[A-Za-z0-9-]+/g) ?? [])];
  for (const path of kept) await lab.exec(host, `rm -rf -- ${path}`, { timeoutMs: 60_000 });
}
