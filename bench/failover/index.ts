/**
 * Failover bench: lifeboat's daemon beside MHA 0.58 (MariaDB) and Redis Sentinel (Redis), on
 * the same lab, fault and load. Each run is a primary-down drill of its own lab: `lifeboat
 * prepare` (semi-sync replication, a Redis replica), user traffic writing through the edges,
 * then the db-primary's power cut. In a lifeboat run its daemon notices and recovers; in a
 * peers run MHA's manager and three sentinels do, and lifeboat runs nothing. The same
 * stopwatch inside the standby (standby-watch.ts) times both: fault → the standby's MariaDB
 * writable, fault → its Redis a master. For lifeboat alone, fault → the first good user
 * request (the peers stop at the database: nothing repoints the applications).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadFleet } from '../../src/fleet/load.ts';
import type { Fleet } from '../../src/fleet/schema.ts';
import type { Lab } from '../../src/lab/lab.ts';
import { SECRET_FILES } from '../../src/lab/lab-secrets.ts';
import { drillNamed, type DrillCast } from '../../src/lab/drill/drills.ts';
import { runDrill, withLabSpares, type DrillObserver, type DrillReport } from '../../src/lab/drill/run-drill.ts';
import { startMha } from './mha.ts';
import { sentinelLogs, startSentinels } from './sentinel.ts';
import { watchStandby, type StandbyTimes } from './standby-watch.ts';

export interface FailoverBenchOptions {
  fleetFile: string;
  runs: number;
  log?: (line: string) => void;
}

/** The peers' settings, chosen as fast as their documentation allows and level with lifeboat's drill daemon. */
export const PEER_SETTINGS = {
  /** MHA's fastest ping (default 3 s); it declares the master dead after four failed pings and its secondary check. */
  mhaPingIntervalS: 1,
  /** lifeboat's drill daemon confirms a death after 2 s (two rounds 2 s apart): the sentinels wait as long. */
  sentinelDownAfterMs: 2000,
  sentinelQuorum: 2,
} as const;

export interface LifeboatRun {
  databaseWritableS: number | null;
  redisPromotedS: number | null;
  firstGoodRequestS: number | null;
  detectS: number | null;
  lostWrites: number;
  problems: string[];
}

export interface PeersRun {
  /** MHA: fault → the standby writable. */
  databaseWritableS: number | null;
  /** Sentinel: fault → the standby's Redis a master. */
  redisPromotedS: number | null;
  lostWrites: number;
  problems: string[];
}

export interface FailoverBenchResult {
  fleet: string;
  runs: number;
  settings: typeof PEER_SETTINGS & { lifeboat: string };
  lifeboat: { runs: LifeboatRun[]; median: { databaseWritableS: number | null; redisPromotedS: number | null; firstGoodRequestS: number | null } };
  peers: { runs: PeersRun[]; median: { mhaDatabaseWritableS: number | null; sentinelRedisPromotedS: number | null } };
  /** Peer median ÷ lifeboat median: how many times longer the peer took. */
  ratio: { database: number | null; redis: number | null };
  /** What MHA's own check printed in the first peers run, as Debian ships it and with the first workaround only. */
  mhaPrinted: { asPackaged: string; withFirstWorkaround: string } | null;
  /** Why a part was not measured on this fleet. */
  notes: string[];
}

export function median(values: ReadonlyArray<number | null>): number | null {
  const v = values.filter((x): x is number => x !== null).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = Math.floor(v.length / 2);
  return Math.round((v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2) * 100) / 100;
}

export function ratio(peer: number | null, lifeboat: number | null): number | null {
  return peer === null || lifeboat === null || lifeboat === 0 ? null : Math.round((peer / lifeboat) * 10) / 10;
}

/** Who plays which part on a fleet: the primary, its heir, the Redis pair, and two other machines to check from. */
export interface BenchCast {
  primary: string;
  standby: string;
  /** The Redis replica's machine, when the db-primary also holds the Redis primary; else why Redis is not compared. */
  redis: { replica: string } | { skipped: string };
  witnesses: string[];
}

export function benchCast(fleet: Fleet, cast: DrillCast): BenchCast {
  const fault = cast.faults[0];
  if (!fault || fault.kind !== 'machine-down') throw new Error('failover bench: the primary-down drill no longer cuts a machine');
  const primary = fault.host;
  const standby = cast.databaseAfter;
  const redisPrimary = fleet.machines.find((m) => m.roles.includes('redis'));
  const redisReplica = fleet.machines.find((m) => m.roles.includes('redis-replica'));
  const redis = !fleet.redis
    ? { skipped: 'the fleet has no Redis' }
    : redisPrimary?.name !== primary
      ? { skipped: `the Redis primary (${redisPrimary?.name ?? 'none'}) is not the machine whose power is cut` }
      : !redisReplica
        ? { skipped: 'the fleet has no machine with role redis-replica' }
        : { replica: redisReplica.name };
  const witnesses = fleet.machines.filter((m) => m.name !== primary && m.name !== standby && !m.roles.includes('spare')).map((m) => m.name).slice(0, 2);
  if (witnesses.length < 2) throw new Error(`failover bench: MHA's secondary check and the sentinels need two machines besides ${primary} and ${standby}; fleet ${fleet.name} has ${witnesses.length}`);
  return { primary, standby, redis, witnesses };
}

const WATCH_LIMIT_S = 120;
const secondsAfter = (at: number | null, faultAt: number) => (at === null ? null : Math.round(at - faultAt) / 1000);

function beforeProblems(t: StandbyTimes, redisWatched: boolean): string[] {
  const problems: string[] = [];
  if (t.before.readOnly !== '1') problems.push(`before the fault the standby's read_only was "${t.before.readOnly}", not 1: the stopwatch cannot time its promotion`);
  if (redisWatched && t.before.redisRole !== 'slave') problems.push(`before the fault the standby's Redis role was "${t.before.redisRole}", not slave`);
  return problems;
}

interface Observed {
  databaseWritableS: number | null;
  redisPromotedS: number | null;
  problems: string[];
  mhaPrinted?: { asPackaged: string; withFirstWorkaround: string };
}

/** The one stopwatch, on the standby's database and, when the Redis pair is compared, its Redis. */
const watchCast = (lab: Lab, c: BenchCast) =>
  watchStandby(lab, { databaseHost: c.standby, ...('replica' in c.redis ? { redisHost: c.redis.replica } : {}), limitS: WATCH_LIMIT_S });

function lifeboatObserver(): DrillObserver {
  let watch: Awaited<ReturnType<typeof watchStandby>> | undefined;
  let redisWatched = false;
  return {
    async start(lab, cast) {
      const c = benchCast(lab.fleet, cast);
      redisWatched = 'replica' in c.redis;
      watch = await watchCast(lab, c);
    },
    async collect(faultAt): Promise<Observed> {
      const t = await watch!.times();
      return { databaseWritableS: secondsAfter(t.databaseWritableAt, faultAt), redisPromotedS: secondsAfter(t.redisPromotedAt, faultAt), problems: beforeProblems(t, redisWatched) };
    },
  };
}

function peersObserver(): DrillObserver {
  let watch: Awaited<ReturnType<typeof watchStandby>> | undefined;
  let mha: Awaited<ReturnType<typeof startMha>> | undefined;
  let labRef: Lab | undefined;
  let sentinels: string[] = [];
  return {
    replacesRecovery: true,
    async start(lab, cast) {
      labRef = lab;
      const c = benchCast(lab.fleet, cast);
      const db = lab.fleet.database;
      if (!db) throw new Error('failover bench: the fleet has no database');
      const secret = (name: string) => readFile(join(lab.paths.secrets, name), 'utf8').then((s) => s.trim());
      mha = await startMha(lab, 'ops', {
        adminUser: db.adminUser,
        adminPassword: await secret(SECRET_FILES.dbAdminPassword),
        replicationUser: db.replicationUser,
        replicationPassword: await secret(SECRET_FILES.dbReplicationPassword),
        primary: lab.host(c.primary).address,
        standby: lab.host(c.standby).address,
        secondaryRoutes: c.witnesses.map((w) => lab.host(w).address),
        port: db.port,
        // The lab's MariaDB writes its binary logs into its data folder.
        binlogDir: '/var/lib/mysql',
        pingIntervalS: PEER_SETTINGS.mhaPingIntervalS,
      });
      if ('replica' in c.redis) {
        sentinels = ['ops', ...c.witnesses];
        await startSentinels(
          lab,
          sentinels,
          {
            primary: lab.host(c.primary).address,
            redisPort: lab.fleet.redis!.port,
            quorum: PEER_SETTINGS.sentinelQuorum,
            downAfterMs: PEER_SETTINGS.sentinelDownAfterMs,
            ...(lab.fleet.redis!.password ? { password: await secret(SECRET_FILES.redisPassword) } : {}),
          },
          1,
        );
      }
      watch = await watchCast(lab, c);
    },
    async collect(faultAt): Promise<Observed> {
      const t = await watch!.times();
      const problems = beforeProblems(t, sentinels.length > 0);
      const m = await mha!.finished(30_000);
      if (!m.ok) problems.push(`MHA did not complete its failover; its log ends:\n${m.log}`);
      if (sentinels.length > 0 && t.redisPromotedAt === null) problems.push(`no sentinel promoted the Redis replica:\n${await sentinelLogs(labRef!, sentinels)}`);
      return { databaseWritableS: secondsAfter(t.databaseWritableAt, faultAt), redisPromotedS: secondsAfter(t.redisPromotedAt, faultAt), problems, mhaPrinted: mha!.printed };
    },
  };
}

export async function benchFailover(o: FailoverBenchOptions): Promise<FailoverBenchResult> {
  const log = o.log ?? (() => undefined);
  const spec = drillNamed('primary-down');
  if (!spec) throw new Error('failover bench: no primary-down drill');
  // Cast before any lab is built: a fleet the bench cannot run on is refused with nothing started.
  const fleet = await loadFleet(o.fleetFile);
  const cast = benchCast(withLabSpares(fleet), spec.cast(withLabSpares(fleet)));
  const notes = 'skipped' in cast.redis ? [`Redis not compared: ${cast.redis.skipped}`] : [];
  const lifeboatRuns: LifeboatRun[] = [];
  const peerRuns: PeersRun[] = [];
  let mhaPrinted: FailoverBenchResult['mhaPrinted'] = null;
  const observedOf = (r: DrillReport) => (r.observed ?? { databaseWritableS: null, redisPromotedS: null, problems: ['the observer reported nothing'] }) as Observed;
  // Alternating, so a drift of the machine's load over the bench touches both sides alike.
  for (let i = 1; i <= o.runs; i++) {
    log(`run ${i}/${o.runs}: lifeboat's daemon`);
    const lifeboat = await runDrill(spec, { fleetFile: o.fleetFile, auto: true, observer: lifeboatObserver(), log: (l) => log(`  ${l}`) });
    const lo = observedOf(lifeboat);
    lifeboatRuns.push({
      databaseWritableS: lo.databaseWritableS,
      redisPromotedS: lo.redisPromotedS,
      firstGoodRequestS: lifeboat.rtoSeconds,
      detectS: lifeboat.detectSeconds ?? null,
      lostWrites: lifeboat.lostWrites,
      problems: [...lifeboat.problems, ...lo.problems],
    });
    log(`  lifeboat: database writable ${lo.databaseWritableS ?? '—'} s, Redis promoted ${lo.redisPromotedS ?? '—'} s, first good request ${lifeboat.rtoSeconds ?? '—'} s`);

    log(`run ${i}/${o.runs}: MHA and Redis Sentinel`);
    const peers = await runDrill(spec, { fleetFile: o.fleetFile, observer: peersObserver(), log: (l) => log(`  ${l}`) });
    const po = observedOf(peers);
    mhaPrinted ??= po.mhaPrinted ?? null;
    // Nothing repoints the applications in a peers run: no user request succeeding is expected.
    const peerProblems = peers.problems.filter((p) => p !== 'no user request succeeded after the fault');
    peerRuns.push({ databaseWritableS: po.databaseWritableS, redisPromotedS: po.redisPromotedS, lostWrites: peers.lostWrites, problems: [...peerProblems, ...po.problems] });
    log(`  peers: MHA database writable ${po.databaseWritableS ?? '—'} s, Sentinel Redis promoted ${po.redisPromotedS ?? '—'} s`);
  }
  const lifeboatMedian = {
    databaseWritableS: median(lifeboatRuns.map((r) => r.databaseWritableS)),
    redisPromotedS: median(lifeboatRuns.map((r) => r.redisPromotedS)),
    firstGoodRequestS: median(lifeboatRuns.map((r) => r.firstGoodRequestS)),
  };
  const peersMedian = { mhaDatabaseWritableS: median(peerRuns.map((r) => r.databaseWritableS)), sentinelRedisPromotedS: median(peerRuns.map((r) => r.redisPromotedS)) };
  return {
    fleet: fleet.name,
    runs: o.runs,
    settings: { ...PEER_SETTINGS, lifeboat: 'lifeboat serve --interval 2 --dead-rounds 2 (the drills’ daemon)' },
    lifeboat: { runs: lifeboatRuns, median: lifeboatMedian },
    peers: { runs: peerRuns, median: peersMedian },
    ratio: { database: ratio(peersMedian.mhaDatabaseWritableS, lifeboatMedian.databaseWritableS), redis: ratio(peersMedian.sentinelRedisPromotedS, lifeboatMedian.redisPromotedS) },
    mhaPrinted,
    notes,
  };
}

const indent = (text: string) => (text.trim() ? text.trim().split('\n').map((l) => `  ${l}`).join('\n') : '  (nothing)');
const cell = (v: number | null) => (v === null ? '—' : `${v.toFixed(2)} s`);
const times = (r: number | null) => (r === null ? '—' : `${r}×`);

export function renderFailoverBench(r: FailoverBenchResult): string {
  const runs = (xs: ReadonlyArray<number | null>) => xs.map((x) => (x === null ? '—' : x.toFixed(2))).join(', ');
  const lines = [
    `failover bench — fleet ${r.fleet}, primary power cut under write load, median of ${r.runs} run(s) each`,
    '',
    '| measured from the fault | lifeboat daemon | peer | peer ÷ lifeboat |',
    '|---|---|---|---|',
    `| new database primary writable | ${cell(r.lifeboat.median.databaseWritableS)} (${runs(r.lifeboat.runs.map((x) => x.databaseWritableS))}) | MHA 0.58: ${cell(r.peers.median.mhaDatabaseWritableS)} (${runs(r.peers.runs.map((x) => x.databaseWritableS))}) | ${times(r.ratio.database)} |`,
    `| Redis replica promoted | ${cell(r.lifeboat.median.redisPromotedS)} (${runs(r.lifeboat.runs.map((x) => x.redisPromotedS))}) | Sentinel: ${cell(r.peers.median.sentinelRedisPromotedS)} (${runs(r.peers.runs.map((x) => x.redisPromotedS))}) | ${times(r.ratio.redis)} |`,
    `| first good user request | ${cell(r.lifeboat.median.firstGoodRequestS)} (${runs(r.lifeboat.runs.map((x) => x.firstGoodRequestS))}) | — (nothing repoints the apps) | |`,
    '',
    `acknowledged writes lost: lifeboat ${r.lifeboat.runs.map((x) => x.lostWrites).join(', ')}; MHA ${r.peers.runs.map((x) => x.lostWrites).join(', ')}`,
    `settings: MHA ping_interval=${r.settings.mhaPingIntervalS} + secondary check from two machines; Sentinel quorum ${r.settings.sentinelQuorum} of 3, down-after ${r.settings.sentinelDownAfterMs} ms; ${r.settings.lifeboat}`,
  ];
  if (r.mhaPrinted) {
    lines.push('', 'MHA 0.58 as Debian ships it (masterha_check_repl):', indent(r.mhaPrinted.asPackaged), 'with the sprintf workaround alone:', indent(r.mhaPrinted.withFirstWorkaround));
    lines.push('so it ran with both workarounds (bench/failover/mha.ts), its file-and-position failover (its GTID mode is MySQL\'s)');
  }
  for (const n of r.notes) lines.push(`note: ${n}`);
  const problems = [...r.lifeboat.runs.flatMap((x, i) => x.problems.map((p) => `lifeboat run ${i + 1}: ${p}`)), ...r.peers.runs.flatMap((x, i) => x.problems.map((p) => `peers run ${i + 1}: ${p}`))];
  for (const p of problems) lines.push(`problem: ${p}`);
  return lines.join('\n') + '\n';
}
