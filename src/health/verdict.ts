/**
 * THE failure verdict: is a machine dead, alive, or cut off from some vantage points only?
 * One vantage point never decides. The operator's machine and every machine of the fleet
 * that talks to the target (edges, app servers, database and Redis machines) each try fresh
 * TCP connections to the target's ports from where they stand, several times within a
 * bounded window; the replica also says what its IO thread sees. Used alike by `recover`'s
 * diagnosis, every scenario's "really failed" check, fencing, and the coming daemon.
 *
 * `decide` is pure (tested without machines); `judgeMachine` gathers the evidence.
 */
import { connect } from 'node:net';
import { readReplicaStatus } from '../actions/replica-status.ts';
import { withAdmin } from '../actions/db-connection.ts';
import type { ActionContext } from '../actions/action.ts';
import { servicesOn, sshSettingsFor } from '../fleet/model.ts';
import { shq } from '../remote/remote.ts';
import type { Fleet, Machine, Role } from '../fleet/schema.ts';

/** What one check (or one vantage point as a whole) saw of the target. */
export type Seen = 'up' | 'down' | 'unknown';

export interface CheckResult {
  /** `tcp/22`, `tcp/3306`, `replica-io`. */
  check: string;
  seen: Seen;
  detail?: string;
}

export interface VantageView {
  /** `operator` (where lifeboat runs) or a machine of the fleet. */
  vantage: string;
  seen: Seen;
  checks: CheckResult[];
  /** Why this vantage point could not be asked (its own SSH failed…). */
  error?: string;
}

export const VERDICT_KINDS = ['alive', 'dead', 'unreachable-from-some', 'unknown'] as const;
export type VerdictKind = (typeof VERDICT_KINDS)[number];

export interface Verdict {
  machine: string;
  address: string;
  kind: VerdictKind;
  /** One sentence for people: what the views add up to. */
  reason: string;
  views: VantageView[];
  /** Vantage points that see the target up: paths a fence can take. */
  seenBy: string[];
  judgedAt: string;
}

export const OPERATOR = 'operator';

/** Roles whose machines talk to the others and so can witness them. */
const WITNESS_ROLES: readonly Role[] = ['edge', 'app', 'db-primary', 'db-replica', 'redis', 'redis-replica'];

/**
 * From the views to the verdict. A vantage that could not be asked casts no vote.
 * - Someone sees it up and someone down: `unreachable-from-some` (a partition or a block:
 *   never a failover on its own).
 * - Seen up by every vantage that answered: `alive`.
 * - Seen down by at least two vantage points, a majority of all that should see it, and up
 *   by none: `dead`.
 * - Anything else (too few answers): `unknown`.
 */
export function decide(machine: string, address: string, views: VantageView[], judgedAt = new Date().toISOString()): Verdict {
  const up = views.filter((v) => v.seen === 'up').map((v) => v.vantage);
  const down = views.filter((v) => v.seen === 'down').map((v) => v.vantage);
  const silent = views.filter((v) => v.seen === 'unknown').map((v) => v.vantage);
  const base = { machine, address, views, seenBy: up, judgedAt };
  const silentNote = silent.length ? `; could not ask ${silent.join(', ')}` : '';
  if (up.length > 0 && down.length > 0) {
    return { ...base, kind: 'unreachable-from-some', reason: `${machine} is seen up by ${up.join(', ')} but not by ${down.join(', ')}${silentNote}` };
  }
  if (up.length > 0) return { ...base, kind: 'alive', reason: `${machine} is seen up by ${up.join(', ')}${silentNote}` };
  const majority = Math.floor(views.length / 2) + 1;
  if (down.length >= 2 && down.length >= majority) {
    return { ...base, kind: 'dead', reason: `${machine} is down from ${down.join(', ')} (${down.length} of ${views.length} vantage points)${silentNote}` };
  }
  return {
    ...base,
    kind: 'unknown',
    reason: down.length
      ? `${machine} is down only from ${down.join(', ')}: ${down.length} of ${views.length} vantage points is not enough to call it dead${silentNote}`
      : `no vantage point could look at ${machine}${silentNote}`,
  };
}

/** A vantage's overall view: any fresh connection that got through means up. */
export function viewOf(vantage: string, checks: CheckResult[], error?: string): VantageView {
  // Fresh connections beat a connection's cached state: a replica's IO thread may say
  // "Yes" for up to slave_net_timeout after its primary's cable was cut. It decides only
  // when nothing fresh was tried, and then only "down" (it is failing to reconnect): its
  // "Yes" alone cannot prove the primary is up, so it makes the view unknown.
  const fresh = checks.filter((c) => c.check.startsWith('tcp/') && c.seen !== 'unknown');
  const deciding = fresh.length > 0 ? fresh : checks.filter((c) => c.seen === 'down');
  const seen: Seen = deciding.length === 0 ? 'unknown' : deciding.some((c) => c.seen === 'up') ? 'up' : 'down';
  return { vantage, seen, checks, ...(error ? { error } : {}) };
}

/** The TCP ports a living target answers on, by its roles. */
export function portsOf(fleet: Fleet, target: Machine): number[] {
  const ports = new Set<number>([sshSettingsFor(fleet, target).port]);
  const has = (...roles: Role[]) => roles.some((r) => target.roles.includes(r));
  if (fleet.database && has('db-primary', 'db-replica')) ports.add(fleet.database.port);
  if (fleet.redis && has('redis', 'redis-replica')) ports.add(fleet.redis.port);
  for (const [, s] of servicesOn(fleet, target)) if (s.port) ports.add(s.port);
  if (has('edge')) ports.add(80);
  return [...ports];
}

/** The machines that should see `target`: every other witness, never spares or stores alone. */
export function witnessesOf(fleet: Fleet, target: string, exclude: readonly string[] = []): Machine[] {
  return fleet.machines.filter(
    (m) => m.name !== target && !exclude.includes(m.name) && m.roles.some((r) => WITNESS_ROLES.includes(r)),
  );
}

export interface JudgeOptions {
  /** Attempts per port (default 3), each bounded by `attemptTimeoutMs` (default 1000). */
  attempts?: number;
  attemptTimeoutMs?: number;
  /** Machines not asked (e.g. the spare being built). */
  exclude?: readonly string[];
  /**
   * How long a vantage machine may take to answer over SSH before it casts no vote. Default:
   * the probes' own time plus 8 s for a connection to be made. The daemon, whose connections
   * are already open, asks for less, so one witness gone silent does not hold a round.
   */
  witnessTimeoutMs?: number;
}

/**
 * Attempts start this far apart and overlap: a lost packet spoils one attempt, not the
 * answer, and a dead machine costs one time-out plus the spacing, not attempts × time-out.
 */
const SPACING_MS = 300;

/** Tries `attempts` fresh connections, staggered; up as soon as one gets through. */
async function tcpFromHere(address: string, port: number, attempts: number, timeoutMs: number): Promise<CheckResult> {
  const one = (delayMs: number) =>
    new Promise<string | true>((resolve) => {
      setTimeout(() => {
        const socket = connect({ host: address, port, timeout: timeoutMs });
        const done = (r: string | true) => {
          socket.destroy();
          resolve(r);
        };
        socket.once('connect', () => done(true));
        socket.once('timeout', () => done(`no answer within ${timeoutMs} ms`));
        socket.once('error', (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
      }, delayMs);
    });
  // Up at the first connection that gets through; down only when every attempt failed.
  let launched = 0;
  let last = '';
  const up = await new Promise<boolean>((resolve) => {
    let pending = attempts;
    const timers: NodeJS.Timeout[] = [];
    for (let i = 0; i < attempts; i++) {
      timers.push(setTimeout(() => {
        launched++;
        void one(0).then((outcome) => {
          if (outcome === true) {
            timers.forEach(clearTimeout);
            resolve(true);
            return;
          }
          last = outcome;
          if (--pending === 0) resolve(false);
        });
      }, i * SPACING_MS));
    }
  });
  if (up) return { check: `tcp/${port}`, seen: 'up' };
  return { check: `tcp/${port}`, seen: 'down', detail: `${launched} attempts: ${last}` };
}

/**
 * One fresh connection to each port from here, side by side: true as soon as one gets
 * through. Between rounds the daemon watches a machine whose death is being established with
 * it: one answer proves it is not dead (a dead verdict needs nobody to see it up).
 */
export async function answersFromHere(address: string, ports: readonly number[], timeoutMs: number): Promise<boolean> {
  const results = await Promise.all(ports.map((p) => tcpFromHere(address, p, 1, timeoutMs)));
  return results.some((r) => r.seen === 'up');
}

/**
 * The same probe run on another machine as ONE process: Perl (perl-base is on every Debian
 * machine) with non-blocking connects, the attempts overlapping as above. A shell loop with
 * `timeout` per attempt spawned ~100 processes per vantage point and took seconds under load.
 * Prints `PORT up|down` per port.
 */
const PROBE_PERL = `use strict; use warnings; use Socket; use IO::Select; use Fcntl qw(F_GETFL F_SETFL O_NONBLOCK); use Time::HiRes qw(time sleep);
my ($addr, $attempts, $timeout, $spacing, @ports) = @ARGV;
my $ip = inet_aton($addr) or die "bad address\\n";
my (%up, @pending, %open);
my $start = time;
for my $i (0 .. $attempts - 1) { push @pending, [$_, $start + $i * $spacing] for @ports }
my $sel = IO::Select->new;
while (@pending || %open) {
  my $now = time;
  while (@pending && $pending[0][1] <= $now) {
    my $p = (shift @pending)->[0];
    next if $up{$p};
    socket(my $s, PF_INET, SOCK_STREAM, getprotobyname('tcp')) or die "socket: $!\\n";
    fcntl($s, F_SETFL, fcntl($s, F_GETFL, 0) | O_NONBLOCK) or die "fcntl: $!\\n";
    if (connect($s, sockaddr_in($p, $ip))) { $up{$p} = 1; close $s; @pending = grep { !$up{$_->[0]} } @pending; next }
    if ($!{EINPROGRESS}) { $open{fileno $s} = [$s, $p, $now + $timeout]; $sel->add($s) } else { close $s }
  }
  my $next = @pending ? $pending[0][1] : $now + $timeout;
  for (values %open) { $next = $_->[2] if $_->[2] < $next }
  my $wait = $next - time; $wait = 0 if $wait < 0;
  if (%open) {
    for my $s ($sel->can_write($wait)) {
      my $o = delete $open{fileno $s}; $sel->remove($s);
      $up{$o->[1]} = 1 unless unpack('i', getsockopt($s, SOL_SOCKET, SO_ERROR));
      close $s;
    }
    @pending = grep { !$up{$_->[0]} } @pending;
  } else { sleep $wait }
  $now = time;
  for my $fd (keys %open) { my $o = $open{$fd}; next if $o->[2] > $now; $sel->remove($o->[0]); close $o->[0]; delete $open{$fd} }
}
print "$_ ", ($up{$_} ? 'up' : 'down'), "\\n" for @ports;
`;

export function remoteProbeScript(address: string, ports: readonly number[], attempts: number, timeoutS: number): string {
  return `perl -e ${shq(PROBE_PERL)} ${shq(address)} ${attempts} ${timeoutS} ${SPACING_MS / 1000} ${ports.join(' ')}`;
}

export function parseRemoteProbe(stdout: string, ports: readonly number[], attempts: number): CheckResult[] {
  const seen = new Map<number, Seen>();
  for (const line of stdout.split('\n')) {
    const m = /^(\d+) (up|down)$/.exec(line.trim());
    if (m) seen.set(Number(m[1]), m[2] as Seen);
  }
  return ports.map((p) => {
    const s = seen.get(p) ?? 'unknown';
    return { check: `tcp/${p}`, seen: s, ...(s === 'down' ? { detail: `${attempts} attempts failed` } : s === 'unknown' ? { detail: 'no result' } : {}) };
  });
}

/**
 * How long the replica's own account of its link may take. While its IO thread is stuck
 * connecting to a dead source, MariaDB can answer SHOW SLAVE STATUS late; the fresh probes
 * decide then, and this check says "unknown" rather than hold the verdict.
 */
const REPLICA_LINK_MS = 1500;

type ReplicaAnswer = { status: Awaited<ReturnType<typeof readReplicaStatus>> } | { error: string };

/** A replica's own account of its link, asked once per judgement; undefined for a machine that is not one. */
async function askReplica(ctx: ActionContext, replica: Machine): Promise<ReplicaAnswer | undefined> {
  if (!ctx.fleet.database || ctx.fleet.database.engine !== 'mariadb' || !replica.roles.includes('db-replica')) return undefined;
  try {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${REPLICA_LINK_MS} ms`)), REPLICA_LINK_MS);
    });
    const asked = withAdmin(ctx, replica.name, (db) => readReplicaStatus(db, replica.name), { connectTimeoutMs: REPLICA_LINK_MS });
    asked.catch(() => {}); // a late failure after the race was decided is not news
    return { status: await Promise.race([asked, late]).finally(() => clearTimeout(timer)) };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/** What that account says of `target`, when `target` is the replica's source. */
function linkCheck(answer: ReplicaAnswer | undefined, target: Machine): CheckResult | undefined {
  if (!answer) return undefined;
  if ('error' in answer) return { check: 'replica-io', seen: 'unknown', detail: `cannot ask: ${answer.error}` };
  const s = answer.status;
  if (!s.replicating || s.source?.host !== target.address) return undefined;
  if (s.ioThread === 'running') return { check: 'replica-io', seen: 'up', detail: `receiving, at ${s.gtidReceived || '-'}` };
  if (s.ioThread === 'connecting') return { check: 'replica-io', seen: 'down', detail: `reconnecting: ${s.lastIoError || 'no error yet'}` };
  return { check: 'replica-io', seen: 'unknown', detail: `IO thread stopped${s.lastIoError ? `: ${s.lastIoError}` : ''}` };
}

/** Gathers every vantage point's view of `name` and decides. Changes nothing. */
export async function judgeMachine(ctx: ActionContext, name: string, options: JudgeOptions = {}): Promise<Verdict> {
  return (await judgeMachines(ctx, [name], options))[0]!;
}

/**
 * Several targets probed by one vantage machine in ONE command: the per-target probes run
 * side by side there, each line prefixed by the target's index. The daemon judges the whole
 * fleet every round; one command per witness instead of one per witness and target keeps
 * that from loading the machines it watches (and the upload sync running on them).
 */
export function remoteProbesScript(targets: ReadonlyArray<{ address: string; ports: readonly number[] }>, attempts: number, timeoutS: number): string {
  const parts = targets.map((t, i) => `{ ${remoteProbeScript(t.address, t.ports, attempts, timeoutS)} | sed 's/^/${i} /'; } &`);
  return `${parts.join(' ')} wait`;
}

/**
 * Rejects once the operator's own probes see every port of witness `w` down: its SSH answer
 * cannot come then either (it travels the same way), so the round stops waiting for it at
 * the probes' pace instead of the witness deadline. Its vote is dropped exactly as a late one
 * would be: fewer voices never make a machine dead. Never settles otherwise.
 */
function operatorLost(own: Promise<CheckResult[]> | undefined, w: string): Promise<never> {
  return new Promise<never>((_, reject) => {
    void own?.then((checks) => {
      if (checks.length > 0 && checks.every((c) => c.seen === 'down')) reject(new Error(`the operator cannot reach ${w} either`));
    }, () => undefined);
  });
}

/**
 * Every vantage point's view of each machine of \`names\`, and the verdict \`decide\` reaches:
 * the operator probes every target, each witness probes all the targets it witnesses in one
 * command, each replica is asked for its link once.
 */
export async function judgeMachines(ctx: ActionContext, names: readonly string[], options: JudgeOptions = {}): Promise<Verdict[]> {
  const fleet = ctx.fleet;
  const attempts = options.attempts ?? 3;
  const timeoutMs = options.attemptTimeoutMs ?? 1000;
  const timeoutS = Math.max(1, Math.round(timeoutMs / 1000));
  const targets = names.map((name) => {
    const machine = fleet.machines.find((m) => m.name === name);
    if (!machine) throw new Error(`no machine ${name} in fleet ${fleet.name}`);
    return { machine, ports: portsOf(fleet, machine), witnesses: witnessesOf(fleet, name, options.exclude) };
  });
  const witnessNames = [...new Set(targets.flatMap((t) => t.witnesses.map((w) => w.name)))];
  const fromOperator = targets.map((t) => Promise.all(t.ports.map((p) => tcpFromHere(t.machine.address, p, attempts, timeoutMs))));
  const operator = Promise.all(fromOperator);
  const fromWitness = new Map<string, Promise<Map<string, { checks: CheckResult[]; error?: string }>>>();
  for (const w of witnessNames) {
    const mine = targets.filter((t) => t.witnesses.some((x) => x.name === w));
    fromWitness.set(w, (async () => {
      const out = new Map<string, { checks: CheckResult[]; error?: string }>();
      try {
        const asked = ctx.remote(w).run(remoteProbesScript(mine.map((t) => ({ address: t.machine.address, ports: t.ports })), attempts, timeoutS), {
          timeoutMs: options.witnessTimeoutMs ?? attempts * SPACING_MS + timeoutS * 1000 + 8000,
        });
        asked.catch(() => undefined); // when it loses the race below, its failure is nobody's
        const r = await Promise.race([asked, operatorLost(fromOperator[targets.findIndex((t) => t.machine.name === w)], w)]);
        const lines = r.stdout.split('\n');
        mine.forEach((t, i) => {
          const own = lines.filter((l) => l.startsWith(`${i} `)).map((l) => l.slice(String(i).length + 1)).join('\n');
          out.set(t.machine.name, { checks: parseRemoteProbe(own, t.ports, attempts) });
        });
      } catch (error) {
        for (const t of mine) out.set(t.machine.name, { checks: t.ports.map((p) => ({ check: `tcp/${p}`, seen: 'unknown' as const })), error: (error as Error).message });
      }
      return out;
    })());
  }
  const replicas = new Map(witnessNames.map((w) => [w, askReplica(ctx, fleet.machines.find((m) => m.name === w)!)] as const));
  const operatorChecks = await operator;
  return Promise.all(targets.map(async (t, i) => {
    const others = await Promise.all(t.witnesses.map(async (w) => {
      const probe = (await fromWitness.get(w.name)!).get(t.machine.name)!;
      const link = linkCheck(await replicas.get(w.name)!, t.machine);
      return viewOf(w.name, [...probe.checks, ...(link ? [link] : [])], probe.error);
    }));
    return decide(t.machine.name, t.machine.address, [viewOf(OPERATOR, operatorChecks[i]!), ...others]);
  }));
}

/** The vantage × check table, for people. */
export function renderVerdict(v: Verdict): string {
  const lines = [`${v.machine} (${v.address}): ${v.kind} — ${v.reason}`];
  const width = Math.max(8, ...v.views.map((x) => x.vantage.length));
  for (const view of v.views) {
    const checks = view.checks.map((c) => `${c.check} ${c.seen}${c.detail && c.seen !== 'up' ? ` (${c.detail})` : ''}`).join(', ');
    lines.push(`    ${view.vantage.padEnd(width)}  ${view.seen.padEnd(7)}  ${checks}${view.error ? `  [cannot ask: ${view.error}]` : ''}`);
  }
  return lines.join('\n');
}

// The newest verdict per machine, per fleet object (one per run): a fence right after the
// "really failed" check uses the evidence just gathered instead of waiting out the
// timeouts of a dead machine a second time.
const recent = new WeakMap<Fleet, Map<string, Verdict>>();

export function rememberVerdict(fleet: Fleet, verdict: Verdict): void {
  let byMachine = recent.get(fleet);
  if (!byMachine) recent.set(fleet, (byMachine = new Map()));
  byMachine.set(verdict.machine, verdict);
}

/** The verdict on `machine` judged within `maxAgeMs`, if any. */
export function recentVerdict(fleet: Fleet, machine: string, maxAgeMs = 60_000): Verdict | undefined {
  const v = recent.get(fleet)?.get(machine);
  return v && Date.now() - Date.parse(v.judgedAt) <= maxAgeMs ? v : undefined;
}

/** `judgeMachine`, or the verdict judged within `maxAgeMs`. */
export async function verdictOn(ctx: ActionContext, name: string, maxAgeMs = 60_000): Promise<Verdict> {
  const known = recentVerdict(ctx.fleet, name, maxAgeMs);
  if (known) return known;
  const v = await judgeMachine(ctx, name);
  rememberVerdict(ctx.fleet, v);
  return v;
}
