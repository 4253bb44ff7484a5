/**
 * Stable local endpoints (fleet `endpoints`): HAProxy in TCP mode on each app server, on
 * 127.0.0.1, forwarding to the live MariaDB and Redis primaries. The services' bindings point
 * at it once; when the database moves, `switchEndpoints` changes where it forwards through
 * HAProxy's runtime API (`set server … addr … port …`, then `shutdown sessions` so that pooled
 * connections to the old primary reconnect), and records the new addresses in its config so a
 * restart of HAProxy keeps them. No service config is edited and no service restarts: the
 * drivers reconnect as they do after any dropped connection (seed pains 3 and 4).
 *
 * HAProxy rather than ProxySQL or MaxScale: one small Debian package that forwards any TCP
 * protocol (MariaDB and Redis alike), with a runtime API that changes a backend without a
 * reload, and no health checks of its own: lifeboat's verdict, not the proxy, decides where
 * the primary is, so the proxy never fails over on a single vantage point.
 */
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { servicesOn } from '../fleet/model.ts';
import type { Binding, Endpoints, Fleet, Machine } from '../fleet/schema.ts';
import { shq } from '../remote/remote.ts';
import { machineTlsFiles, servesData, SHARED_NAMES, tlsRequired } from '../remote/tls.ts';
import { endpointHolders, tlsPorts } from '../fleet/model.ts';
import { allSettled } from '../util/all-settled.ts';
import { ActionError, type Action, type ActionContext, type Change } from './action.ts';
import type { BindingTarget } from './binding-values.ts';
import { bindingMatches, rewriteBindings } from './config-bindings.ts';
import { fileChange, fileDelta, readIfExists, verifyDesired, writeDesired, type DesiredFile } from './desired-file.ts';
import { restartServices, serviceStates } from './services.ts';

export interface HostPort {
  host: string;
  port: number;
  /** Forward inside TLS, checking the server's certificate against the fleet's CA (fleet `tls`). */
  tls?: boolean;
}

/** Where the endpoints of a machine forward: the live primaries. */
export interface LiveAddresses {
  database: HostPort;
  /** Absent when the fleet has no Redis. */
  redis?: HostPort;
}

/** The endpoint names in HAProxy (`listen` sections); the one server in each is `live`. */
export const ENDPOINT_PROXIES = { database: 'mariadb', redis: 'redis' } as const;
type Kind = keyof typeof ENDPOINT_PROXIES;

export function endpointsOf(fleet: Fleet): Endpoints {
  if (!fleet.endpoints) throw new ActionError('precondition', 'the fleet file declares no `endpoints`');
  return fleet.endpoints;
}

/** What the services' bindings hold once they use the endpoints. */
export function endpointTarget(fleet: Fleet): BindingTarget {
  const e = endpointsOf(fleet);
  return {
    mysqlHost: '127.0.0.1',
    mysqlPort: e.databasePort,
    ...(fleet.redis ? { redisHost: '127.0.0.1', redisPort: e.redisPort } : {}),
  };
}

/**
 * Machines whose endpoints HAProxy also ends TLS in front of their own MariaDB (MariaDB's
 * protocol starts in clear, so a proxy cannot forward it into TLS; HAProxy on the far side
 * can take TLS and hand MariaDB the plain stream on the machine itself).
 */
export function tlsGateways(fleet: Fleet): Machine[] {
  if (!fleet.tls.enabled || !fleet.database) return [];
  return endpointHolders(fleet).filter((m) => servesData(m) && (m.roles.includes('db-primary') || m.roles.includes('db-replica')));
}

/**
 * The live addresses when `database` holds MariaDB and `redis` holds Redis: their TLS ports
 * once lifeboat issued them certificates (and, for MariaDB, the machine ends TLS for it),
 * the fleet's plain ports otherwise.
 */
export function liveAt(
  fleet: Fleet,
  database: { name?: string; address: string },
  redis?: { name?: string; address: string },
  /** Whether a machine holds its certificate; `prepare` passes "it will" when it issues them first. */
  issued: (machine: string) => boolean = (machine) => tlsRequired(fleet, machine),
): LiveAddresses {
  const dbTls = database.name !== undefined && issued(database.name) && tlsGateways(fleet).some((m) => m.name === database.name);
  const redisTls = redis?.name !== undefined && issued(redis.name);
  return {
    database: dbTls ? { host: database.address, port: tlsPorts(fleet).database, tls: true } : { host: database.address, port: fleet.database?.port ?? 3306 },
    ...(fleet.redis && redis ? { redis: redisTls ? { host: redis.address, port: tlsPorts(fleet).redis, tls: true } : { host: redis.address, port: fleet.redis.port } } : {}),
  };
}

const at = (to: HostPort) => `${to.host}:${to.port}${to.tls ? ' (tls)' : ''}`;
const describeLive = (live: LiveAddresses) => `MariaDB ${at(live.database)}${live.redis ? `, Redis ${at(live.redis)}` : ''}`;

/** What a machine's HAProxy needs beyond its endpoints when the fleet has TLS. */
export interface EndpointsTls {
  /** The CA the servers' certificates are checked against. */
  caFile: string;
  /** A TLS gateway in front of this machine's own MariaDB (see `tlsGateways`). */
  gateway?: { bind: HostPort; to: HostPort; certificate: string };
}

export function endpointsTlsOf(fleet: Fleet, m: Machine): EndpointsTls | undefined {
  if (!fleet.tls.enabled) return undefined;
  const files = machineTlsFiles(fleet);
  const gateway = tlsGateways(fleet).some((g) => g.name === m.name) && fleet.database
    ? { bind: { host: m.address, port: tlsPorts(fleet).database }, to: { host: m.address, port: fleet.database.port }, certificate: files.haproxyPem }
    : undefined;
  return { caFile: files.ca, ...(gateway ? { gateway } : {}) };
}

/** The HAProxy configuration of one machine's endpoints (pure). */
export function renderEndpointsConfig(machine: string, e: Endpoints, live: LiveAddresses, tls?: EndpointsTls): string {
  const server = (kind: Kind, to: HostPort) => {
    if (!to.tls) return `    server live ${to.host}:${to.port}`;
    if (!tls) throw new ActionError('precondition', `${machine}: the endpoints would forward ${ENDPOINT_PROXIES[kind]} inside TLS, but the fleet's tls is off`);
    return `    server live ${to.host}:${to.port} ssl verify required ca-file ${tls.caFile} verifyhost ${SHARED_NAMES[kind]}`;
  };
  const listen = (kind: Kind, port: number, to: HostPort) => [
    `listen ${ENDPOINT_PROXIES[kind]}`,
    `    bind 127.0.0.1:${port}`,
    server(kind, to),
    '',
  ];
  // Other machines' endpoints reach this machine's MariaDB here, inside TLS.
  const gateway = tls?.gateway
    ? ['listen mariadb-tls', `    bind ${tls.gateway.bind.host}:${tls.gateway.bind.port} ssl crt ${tls.gateway.certificate}`, `    server local ${tls.gateway.to.host}:${tls.gateway.to.port}`, '']
    : [];
  return [
    `# Written by lifeboat: the stable endpoints of ${machine}. The addresses follow recoveries`,
    '# (switched through the runtime API, then recorded here). Edit the fleet file, not this.',
    'global',
    `    stats socket ${e.socket} mode 600 level admin`,
    '    stats timeout 10s',
    '    user haproxy',
    '    group haproxy',
    '',
    'defaults',
    '    mode tcp',
    // A dead primary must turn into a fast error for the service, not a hung connection.
    '    timeout connect 1s',
    // Pooled database connections sit idle for long; MariaDB's own wait_timeout is 8 h.
    '    timeout client 8h',
    '    timeout server 8h',
    '',
    ...listen('database', e.databasePort, live.database),
    ...(live.redis ? listen('redis', e.redisPort, live.redis) : []),
    ...gateway,
  ].join('\n');
}

/**
 * A shell command that sends `commands` to the runtime API socket and prints the answer.
 * Perl's IO::Socket::UNIX is in perl-base (every Debian machine); socat is not.
 */
export function runtimeCommand(socket: string, commands: string): string {
  const script = 'use IO::Socket::UNIX; my $s = IO::Socket::UNIX->new(Peer => $ARGV[0]) or die "cannot connect to $ARGV[0]: $!\\n"; ' +
    'print $s "$ARGV[1]\\n"; print while <$s>;';
  return `timeout 5 perl -e ${shq(script)} ${shq(socket)} ${shq(commands)}`;
}

/** `show servers state` of the endpoints: proxy name → the live server's address (pure). */
export function parseServersState(text: string): Map<string, HostPort> {
  const out = new Map<string, HostPort>();
  let columns: string[] | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('# ')) {
      columns = line.slice(2).trim().split(/\s+/);
      continue;
    }
    if (!columns || line.trim() === '') continue;
    const fields = line.trim().split(/\s+/);
    const at = (name: string) => fields[columns!.indexOf(name)];
    const proxy = at('be_name');
    const server = at('srv_name');
    const host = at('srv_addr');
    const port = Number(at('srv_port'));
    // srv_use_ssl is 1 for a server that speaks TLS.
    const tls = at('srv_use_ssl') === '1';
    if (proxy && server === 'live' && host && Number.isInteger(port)) out.set(proxy, { host, port, ...(tls ? { tls } : {}) });
  }
  return out;
}

/** Where the running HAProxy forwards now; throws when its runtime API does not answer. */
export async function readLive(ctx: ActionContext, machine: string): Promise<Map<string, HostPort>> {
  const e = endpointsOf(ctx.fleet);
  const result = await ctx.remote(machine).run(runtimeCommand(e.socket, 'show servers state'), { timeoutMs: 8000 });
  if (result.code !== 0) {
    throw new ActionError('precondition', `${machine}: the endpoints' runtime API (${e.socket}) does not answer: ${(result.stderr || result.stdout).trim() || `exit ${result.code}`}`);
  }
  return parseServersState(result.stdout);
}

function differences(live: LiveAddresses, running: Map<string, HostPort>): Array<{ kind: Kind; to: HostPort }> {
  const out: Array<{ kind: Kind; to: HostPort }> = [];
  for (const kind of ['database', 'redis'] as const) {
    const to = live[kind];
    if (!to) continue;
    const now = running.get(ENDPOINT_PROXIES[kind]);
    if (!now || now.host !== to.host || now.port !== to.port || Boolean(now.tls) !== Boolean(to.tls)) out.push({ kind, to });
  }
  return out;
}

function switchCommands(changes: ReadonlyArray<{ kind: Kind; to: HostPort }>): string {
  // New connections go to the new address at once; the sessions still open to the old one
  // are closed, so pools reconnect instead of waiting on a dead primary.
  return changes.flatMap(({ kind, to }) => [
    `set server ${ENDPOINT_PROXIES[kind]}/live addr ${to.host} port ${to.port}`,
    `shutdown sessions server ${ENDPOINT_PROXIES[kind]}/live`,
  ]).join('; ');
}

export interface SwitchOptions {
  /**
   * `prepare` writes the configuration before HAProxy first starts: a machine where it
   * does not run yet only gets the file. A recovery always requires it running.
   */
  mayBeStopped?: boolean;
  /** How long to wait for the runtime API to answer (HAProxy just started). Default: no wait. */
  answerWithinMs?: number;
  /**
   * `prepare` restarts HAProxy right after this (its keeper's file changed): a change between
   * clear and TLS, which the runtime API cannot make, is left to that restart.
   */
  restartFollows?: boolean;
}

/** Differences the runtime API can switch, and those only a restart of HAProxy can (TLS on or off). */
function splitDifferences(live: LiveAddresses, running: Map<string, HostPort>) {
  const all = differences(live, running);
  const tlsChange = all.filter(({ kind, to }) => Boolean(running.get(ENDPOINT_PROXIES[kind])?.tls) !== Boolean(to.tls) && running.has(ENDPOINT_PROXIES[kind]));
  return { runtime: all.filter((d) => !tlsChange.includes(d)), restart: tlsChange };
}

/** The endpoints of `machine` forward to `live`: recorded in the config, switched at runtime. */
/**
 * In a recovery the running HAProxy says whether a link goes inside TLS (prepare set it up,
 * and only a restart could change it): the new address keeps that, whatever this operator
 * machine knows of the certificates (another operator's CA records may be the ones).
 */
function keepingTls(fleet: Fleet, live: LiveAddresses, running: Map<string, HostPort>): LiveAddresses {
  const ports = tlsPorts(fleet);
  const adapt = (kind: Kind, to: HostPort): HostPort => {
    const now = running.get(ENDPOINT_PROXIES[kind]);
    if (!now || Boolean(now.tls) === Boolean(to.tls)) return to;
    const plain = kind === 'database' ? fleet.database?.port ?? 3306 : fleet.redis?.port ?? 6379;
    return now.tls ? { host: to.host, port: kind === 'database' ? ports.database : ports.redis, tls: true } : { host: to.host, port: plain };
  };
  return { database: adapt('database', live.database), ...(live.redis ? { redis: adapt('redis', live.redis) } : {}) };
}

/** The endpoints of `machine` forward to `live`: recorded in the config, switched at runtime. */
export function switchEndpoints(machine: string, wanted: LiveAddresses, options: SwitchOptions = {}): Action {
  const file = (ctx: ActionContext, live: LiveAddresses): DesiredFile => {
    const e = endpointsOf(ctx.fleet);
    const m = ctx.fleet.machines.find((x) => x.name === machine);
    if (!m) throw new ActionError('precondition', `no machine ${machine} in the fleet file`);
    return { machine, path: e.config, content: renderEndpointsConfig(machine, e, live, endpointsTlsOf(ctx.fleet, m)), mode: 0o600 };
  };
  // prepare decides TLS (it restarts HAProxy after); a recovery keeps what runs.
  const target = (ctx: ActionContext, now: Map<string, HostPort> | undefined): LiveAddresses =>
    now && !options.restartFollows ? keepingTls(ctx.fleet, wanted, now) : wanted;
  // A plan never waits: it shows what is there now.
  const running = async (ctx: ActionContext, wait = true): Promise<Map<string, HostPort> | undefined> => {
    const deadline = Date.now() + (wait ? options.answerWithinMs ?? 0 : 0);
    for (;;) {
      try {
        return await readLive(ctx, machine);
      } catch (error) {
        if (options.mayBeStopped) return undefined;
        if (Date.now() + 200 > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  };
  return {
    title: `Switch the stable endpoints on ${machine} to ${describeLive(wanted)}`,
    machines: [machine],
    mutating: true,
    async plan(ctx) {
      const changes: Change[] = [];
      const now = await running(ctx, false).catch((error: Error) => {
        changes.push({ kind: 'note', machine, text: error.message });
        return undefined;
      });
      const live = target(ctx, now);
      const f = file(ctx, live);
      const { before, after } = await fileDelta(ctx, f);
      changes.unshift(...fileChange(f, before, after));
      const { runtime: todo, restart } = now ? splitDifferences(live, now) : { runtime: [], restart: [] };
      if (todo.length) changes.push({ kind: 'command', machine, command: runtimeCommand(endpointsOf(ctx.fleet).socket, switchCommands(todo)) });
      if (restart.length) changes.push({ kind: 'note', machine, text: `${restart.map(({ kind }) => ENDPOINT_PROXIES[kind]).join(', ')}: clear text ↔ TLS, at the restart of HAProxy` });
      return changes;
    },
    async apply(ctx) {
      // The running HAProxy first (users wait for it), then the file, so a restart of it
      // keeps the new place. A HAProxy restarted in between forwards to the old place
      // again: verify compares both, so the step is applied again then.
      const now = await running(ctx);
      const live = target(ctx, now);
      const { runtime: todo } = now ? splitDifferences(live, now) : { runtime: [] };
      if (todo.length > 0) {
        const result = await ctx.remote(machine).run(runtimeCommand(endpointsOf(ctx.fleet).socket, switchCommands(todo)), { timeoutMs: 8000 });
        if (result.code !== 0) throw new ActionError('apply-failed', `${machine}: the endpoints' runtime API refused the switch: ${(result.stderr || result.stdout).trim()}`);
        ctx.log(`${machine}: endpoints now forward to ${describeLive(live)}`);
      }
      await writeDesired(ctx, file(ctx, live));
    },
    async verify(ctx) {
      const now = await running(ctx);
      const live = target(ctx, now);
      await verifyDesired(ctx, file(ctx, live));
      if (!now) return;
      const { runtime, restart } = splitDifferences(live, now);
      const wrong = options.restartFollows ? runtime : [...runtime, ...restart];
      if (wrong.length) {
        throw new ActionError('verify-failed', `${machine}: the endpoints still forward elsewhere: ${wrong.map(({ kind }) => `${ENDPOINT_PROXIES[kind]} → ${JSON.stringify(now.get(ENDPOINT_PROXIES[kind]) ?? null)}`).join(', ')}`);
      }
    },
  };
}

/**
 * The services of a machine that use the endpoints read them since their last restart: a
 * marker beside the endpoints' config holds a hash of the binding files as they were when
 * the services were restarted on them. A rewrite that was not followed by its restart (an
 * interrupted run) leaves the marker behind, so the step is applied again and a recovery
 * does not trust endpoints that the running services do not use.
 */
export function boundMarkerPath(e: Endpoints): string {
  return `${posix.dirname(e.config)}/endpoints.bound`;
}

/** Every binding file's text, read once and side by side. */
async function bindingFiles(ctx: ActionContext, machine: string, bindings: readonly Binding[]): Promise<Map<string, Buffer>> {
  const files = [...new Set(bindings.map((b) => b.file))];
  const texts = await Promise.all(files.map((f) => ctx.remote(machine).readFile(f)));
  return new Map(files.map((f, i) => [f, texts[i]!]));
}

function hashOf(files: ReadonlyMap<string, Buffer>): string {
  const hash = createHash('sha256');
  for (const f of [...files.keys()].sort()) hash.update(`${f}\n`).update(files.get(f)!).update('\n');
  return hash.digest('hex');
}

export async function bindingsHash(ctx: ActionContext, machine: string, bindings: readonly Binding[]): Promise<string> {
  return hashOf(await bindingFiles(ctx, machine, bindings));
}

/** Whether `marker` on the machine holds the hash of its binding files as they are now. */
async function markerHolds(ctx: ActionContext, machine: string, bindings: readonly Binding[], marker: string): Promise<boolean> {
  return (await readIfExists(ctx.remote(machine), marker))?.trim() === (await bindingsHash(ctx, machine, bindings));
}

/** The machine's bound services and bindings (in the context's fleet), and the marker that records them. */
function boundOn(ctx: ActionContext, machine: string): { services: string[]; bindings: Binding[]; marker: string } {
  const m = ctx.fleet.machines.find((x) => x.name === machine);
  if (!m) throw new ActionError('precondition', `no machine ${machine} in the fleet file`);
  return { ...boundServicesOn(ctx.fleet, m), marker: boundMarkerPath(endpointsOf(ctx.fleet)) };
}

/** Services (by the machine's roles) that have a binding, and those bindings. */
export function boundServicesOn(fleet: Fleet, m: Machine): { services: string[]; bindings: Binding[] } {
  const services = servicesOn(fleet, m).map(([name]) => name).filter((name) => fleet.bindings.some((b) => b.service === name));
  return { services, bindings: fleet.bindings.filter((b) => services.includes(b.service)) };
}

/**
 * Whether `machine`'s services reach MariaDB and Redis through its endpoints right now: the
 * endpoints answer, their bindings point there, the services were restarted on them, and
 * those of `mustRun` run.
 * Anything that cannot be read is a "no" with its reason: a recovery then rewrites and
 * restarts, which is always correct, only slower.
 */
export async function endpointsInUse(ctx: ActionContext, machine: string, mustRun: readonly string[] = []): Promise<{ inUse: boolean; why: string }> {
  if (!ctx.fleet.endpoints) return { inUse: false, why: 'the fleet declares no endpoints' };
  const m = ctx.fleet.machines.find((x) => x.name === machine);
  if (!m) return { inUse: false, why: `no machine ${machine}` };
  const { bindings } = boundServicesOn(ctx.fleet, m);
  if (bindings.length === 0) return { inUse: false, why: `no service of ${machine} is bound to the database` };
  try {
    // Asked side by side with the rest: a service that does not run is not switched over
    // by the endpoints; a rewrite and restart starts it.
    // Each file read once, everything side by side: a recovery's resolve waits for this.
    const [states, , files, marker] = await allSettled([
      serviceStates(ctx, machine, mustRun),
      readLive(ctx, machine),
      bindingFiles(ctx, machine, bindings),
      readIfExists(ctx.remote(machine), boundMarkerPath(endpointsOf(ctx.fleet))),
    ]);
    const stopped = Object.entries(states).filter(([, state]) => state !== 'running').map(([name, state]) => `${name} is ${state}`);
    if (stopped.length) return { inUse: false, why: stopped.join(', ') };
    const target = endpointTarget(ctx.fleet);
    const astray = bindings.find((b) => !bindingMatches(files.get(b.file)!.toString('utf8'), b, target));
    if (astray) return { inUse: false, why: `${astray.file} does not point at the endpoints` };
    if (marker?.trim() !== hashOf(files)) return { inUse: false, why: 'the services were not restarted since their bindings last changed' };
    return { inUse: true, why: 'the endpoints answer and the services use them' };
  } catch (error) {
    return { inUse: false, why: (error as Error).message };
  }
}

/**
 * `prepare`: the bound services of `machine` point at its endpoints, and those that run are
 * restarted once on the new bindings (then the marker is written). A second run changes nothing.
 */
export function pointServicesAtEndpoints(machine: string): Action {
  const parts = (ctx: ActionContext) => {
    const bound = boundOn(ctx, machine);
    return { ...bound, rewrite: rewriteBindings(machine, bound.bindings, endpointTarget(ctx.fleet)) };
  };
  const markerCurrent = (ctx: ActionContext, p: ReturnType<typeof parts>) => markerHolds(ctx, machine, p.bindings, p.marker);
  const running = async (ctx: ActionContext, services: readonly string[]) =>
    Object.entries(await serviceStates(ctx, machine, services)).filter(([, state]) => state === 'running').map(([name]) => name);
  return {
    title: `Point the services on ${machine} at its stable endpoints`,
    machines: [machine],
    mutating: true,
    async plan(ctx) {
      const p = parts(ctx);
      const changes: Change[] = (await p.rewrite.plan(ctx)).filter((c) => c.kind !== 'note');
      if (changes.length === 0 && (await markerCurrent(ctx, p))) return [];
      const up = await running(ctx, p.services);
      if (up.length) changes.push({ kind: 'note', machine, text: `then restart ${up.join(', ')} once, on the new bindings` });
      changes.push({ kind: 'command', machine, command: `record the bindings' hash in ${p.marker}` });
      return changes;
    },
    async apply(ctx) {
      const p = parts(ctx);
      const changed = (await p.rewrite.plan(ctx)).some((c) => c.kind === 'file');
      if (!changed && (await markerCurrent(ctx, p))) return;
      await p.rewrite.apply(ctx);
      const up = await running(ctx, p.services);
      if (up.length) {
        // All of a machine's services restart at once here, while prepare works on the others:
        // under that load a service may need more than a recovery's 5 s to answer (measured 5.2 s
        // on the lab's 2 cores), and prepare has no user waiting on it.
        const restart = restartServices(machine, up, { verifyWithinMs: 30_000 });
        await restart.apply(ctx);
        await restart.verify(ctx);
      }
      await ctx.remote(machine).writeFile(p.marker, `${await bindingsHash(ctx, machine, p.bindings)}\n`, { mode: 0o600 });
    },
    async verify(ctx) {
      const p = parts(ctx);
      await p.rewrite.verify(ctx);
      if (!(await markerCurrent(ctx, p))) throw new ActionError('verify-failed', `${machine}: the services were not restarted since their bindings last changed (${p.marker})`);
    },
  };
}

/**
 * Records that every service with bindings on `machine` runs on them now (the marker
 * `pointServicesAtEndpoints` keeps), for a run that has just rewritten and started or
 * restarted each of them itself: a later `prepare` then restarts nothing. Applied in the
 * fleet where the machine holds its new roles, so the marker covers the services it runs now.
 */
export function bindingsRecorded(machine: string): Action {
  const parts = (ctx: ActionContext) => boundOn(ctx, machine);
  const current = (ctx: ActionContext) => {
    const p = parts(ctx);
    return markerHolds(ctx, machine, p.bindings, p.marker);
  };
  return {
    title: `Record that the services on ${machine} run on their current bindings`,
    machines: [machine],
    mutating: true,
    async plan(ctx) {
      return (await current(ctx)) ? [] : [{ kind: 'command', machine, command: `record the bindings' hash in ${parts(ctx).marker}` }];
    },
    async apply(ctx) {
      const p = parts(ctx);
      await ctx.remote(machine).writeFile(p.marker, `${await bindingsHash(ctx, machine, p.bindings)}\n`, { mode: 0o600 });
    },
    async verify(ctx) {
      if (!(await current(ctx))) throw new ActionError('verify-failed', `${machine}: ${parts(ctx).marker} does not hold the bindings' hash`);
    },
  };
}
