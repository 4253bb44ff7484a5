/**
 * Fencing: before a new primary takes writes, and before a singleton starts elsewhere, the
 * old primary must not be able to take writes or run that singleton. It is fenced through
 * any path that reaches it: directly, or through a machine of the fleet that still sees it
 * (an SSH jump), and each fence's verify proves its effect there. A machine no path reaches
 * is reported as NOT fenced, never as fenced: its database cannot take the users' writes
 * when no vantage point sees it, but its singletons (jobs that run by themselves) wait for a
 * fencing command declared in the fleet file or for a person's word.
 */
import { tlsRequired } from '../remote/tls.ts';
import { ActionError, type Action, type ActionContext, type Change } from '../actions/action.ts';
import { driverFor } from '../actions/drivers/index.ts';
import { DEBIAN_MARIADB_PATHS } from '../actions/provision/mariadb-config.ts';
import { machine as machineNamed, servicesOn, tlsPorts } from '../fleet/model.ts';
import { OPERATOR, renderVerdict, verdictOn, type Verdict } from '../health/verdict.ts';
import { LocalRemote } from '../remote/local.ts';
import { shq, type Remote } from '../remote/remote.ts';

const REACH_TIMEOUT_MS = 4000;

interface Path {
  remote: Remote;
  /** The machine jumped through; undefined for the operator's own connection. */
  via?: string;
}

/**
 * A working path to `machine`: the operator's own connection when the verdict says the
 * operator sees it, else a jump through each vantage point that sees it. Undefined when none.
 */
async function pathTo(ctx: ActionContext, machine: string, verdict: Verdict): Promise<Path | undefined> {
  const candidates: Array<() => Path | undefined> = [];
  if (verdict.seenBy.includes(OPERATOR) || verdict.kind === 'alive') candidates.push(() => ({ remote: ctx.remote(machine) }));
  for (const via of verdict.seenBy.filter((v) => v !== OPERATOR)) {
    candidates.push(() => {
      const remote = ctx.remoteVia?.(machine, via);
      return remote ? { remote, via } : undefined;
    });
  }
  for (const make of candidates) {
    const path = make();
    if (!path) continue;
    try {
      if ((await path.remote.run('true', { timeoutMs: REACH_TIMEOUT_MS })).code === 0) return path;
    } catch (error) {
      ctx.log(`${machine}: not reachable${path.via ? ` through ${path.via}` : ' directly'}: ${(error as Error).message}`);
    }
  }
  return undefined;
}

const through = (path: Path) => (path.via ? ` through ${path.via}` : '');

function mariadbRootCommand(): string {
  return `mariadb --no-defaults --socket=${shq(DEBIAN_MARIADB_PATHS.socket)} --user=root --batch --skip-column-names --connect-timeout=5`;
}

/** Shell: is a MariaDB server process running on the machine? */
const MARIADB_RUNNING = 'pgrep -x mariadbd >/dev/null 2>&1 || pgrep -x mysqld >/dev/null 2>&1';
const REDIS_RUNNING = 'pgrep -x redis-server >/dev/null 2>&1';

interface Parts {
  db: boolean;
  redis: boolean;
  services: string[];
}

function partsOf(ctx: ActionContext, machine: string): Parts {
  // A machine out of service holds no role; what it ran is in `down.roles` (a returned old
  // primary is fenced for what it was).
  const m = machineNamed(ctx.fleet, machine);
  const held = m.roles.length > 0 ? m : { ...m, roles: m.down?.roles ?? [] };
  return {
    db: Boolean(ctx.fleet.database) && held.roles.some((r) => r === 'db-primary' || r === 'db-replica'),
    redis: Boolean(ctx.fleet.redis) && held.roles.some((r) => r === 'redis' || r === 'redis-replica'),
    services: servicesOn(ctx.fleet, held).map(([name]) => name),
  };
}

async function redisScript(ctx: ActionContext, commands: string[]): Promise<string> {
  const password = ctx.fleet.redis?.password ? await ctx.secret(ctx.fleet.redis.password) : undefined;
  // AUTH on stdin: the password never appears on a command line.
  return [...(password ? [`AUTH ${JSON.stringify(password)}`] : []), ...commands, ''].join('\n');
}

/**
 * "Fence the old primary": MariaDB read-only (or not running), every service of it
 * stopped, its Redis a replica of the heir. Through any path that reaches it. Unreachable
 * from every vantage point (judged dead), it is reported as not fenced and the run goes on:
 * nobody in the fleet can reach it, so it cannot take the users' writes. Seen by someone
 * but reached by no path, the fence fails: a second writable primary is never made.
 */
export function fenceOldPrimary(machine: string, heir: string | undefined, o: { mustReach?: boolean } = {}): Action {
  let outcome: 'fenced' | 'isolated' | undefined;
  return {
    title: `Fence ${machine}: MariaDB read-only, its services stopped, its Redis a replica`,
    machines: [machine],
    mutating: true,
    async plan(ctx): Promise<Change[]> {
      const parts = partsOf(ctx, machine);
      const changes: Change[] = [
        { kind: 'note', machine, text: `through the operator's connection or an SSH jump through a machine that still sees ${machine}; if none reaches it and every vantage point sees it down, it is reported NOT fenced (isolated)` },
      ];
      if (parts.db) changes.push({ kind: 'sql', machine, sql: 'SET GLOBAL read_only = 1', params: [] });
      for (const s of parts.services) changes.push({ kind: 'command', machine, command: driverFor(s, ctx.fleet.services[s]!.driver).commands.stop });
      if (parts.redis && heir) changes.push({ kind: 'note', machine, text: `Redis: REPLICAOF ${machineNamed(ctx.fleet, heir).address} ${ctx.fleet.redis!.port}` });
      return changes;
    },
    async apply(ctx) {
      const verdict = await verdictOn(ctx, machine);
      const path = await pathTo(ctx, machine, verdict);
      if (!path) {
        // A machine being brought back must be fenced for real: "nobody reaches it" is no fence then.
        if (o.mustReach) throw new ActionError('apply-failed', `${machine} is not fenced: no path reaches it (verdict ${verdict.kind})\n${renderVerdict(verdict)}`);
        if (verdict.kind !== 'dead') {
          throw new ActionError('apply-failed', `${machine} is not fenced: no path reaches it although the verdict is ${verdict.kind}; not going on, or two primaries could take writes\n${renderVerdict(verdict)}`);
        }
        outcome = 'isolated';
        ctx.log(`${machine} is NOT fenced: no vantage point reaches it (${verdict.reason}); it cannot take the users' writes while nobody reaches it`);
        return;
      }
      const parts = partsOf(ctx, machine);
      const { remote } = path;
      if (parts.db) {
        const r = await remote.run(`if ${MARIADB_RUNNING}; then ${mariadbRootCommand()}; else echo not-running; fi`, { stdin: 'SET GLOBAL read_only = 1;\n', timeoutMs: 15_000 });
        if (r.code !== 0) throw new ActionError('apply-failed', `${machine}: could not make MariaDB read-only${through(path)}: ${r.stderr.trim()}`);
      }
      for (const name of parts.services) await driverFor(name, ctx.fleet.services[name]!.driver, { timeoutMs: 30_000 }).stop(remote);
      if (parts.redis && heir) {
        const h = machineNamed(ctx.fleet, heir);
        const port = ctx.fleet.redis!.port;
        // The demoted Redis follows the heir inside TLS when both hold certificates (tls-replication is set by prepare).
        const heirPort = tlsRequired(ctx.fleet, heir) && tlsRequired(ctx.fleet, machine) ? tlsPorts(ctx.fleet).redis : port;
        const password = ctx.fleet.redis?.password;
        const script = await redisScript(ctx, [...(password ? [`CONFIG SET masterauth ${JSON.stringify(await ctx.secret(password))}`] : []), `REPLICAOF ${h.address} ${heirPort}`]);
        const r = await remote.run(`if ${REDIS_RUNNING}; then redis-cli -p ${port}; else echo not-running; fi`, { stdin: script, timeoutMs: 15_000 });
        if (r.code !== 0) throw new ActionError('apply-failed', `${machine}: could not demote Redis${through(path)}: ${r.stderr.trim()}`);
      }
      outcome = 'fenced';
      ctx.log(`${machine} fenced${through(path)}`);
    },
    async verify(ctx) {
      const verdict = await verdictOn(ctx, machine);
      const path = await pathTo(ctx, machine, verdict);
      if (!path) {
        if (verdict.kind === 'dead' && outcome !== 'fenced' && !o.mustReach) return; // isolated, reported as not fenced by apply
        throw new ActionError('verify-failed', `${machine}: no path reaches it to check the fence (verdict ${verdict.kind})`);
      }
      const problems = await fenceProblems(ctx, path.remote, partsOf(ctx, machine));
      if (problems.length) throw new ActionError('verify-failed', `${machine} is not fenced${through(path)}: ${problems.join('; ')}`);
    },
  };
}

async function fenceProblems(ctx: ActionContext, remote: Remote, parts: Parts): Promise<string[]> {
  const problems: string[] = [];
  if (parts.db) {
    const r = await remote.run(`if ${MARIADB_RUNNING}; then ${mariadbRootCommand()}; else echo stopped; fi`, { stdin: 'SELECT @@global.read_only;\n', timeoutMs: 15_000 });
    const answer = r.stdout.trim();
    if (r.code !== 0) problems.push(`cannot read MariaDB's read_only: ${r.stderr.trim()}`);
    else if (answer !== '1' && answer !== 'stopped') problems.push(`MariaDB read_only is ${answer || '?'}`);
  }
  for (const name of parts.services) {
    const state = await driverFor(name, ctx.fleet.services[name]!.driver, { timeoutMs: 15_000 }).status(remote);
    if (state !== 'stopped') problems.push(`${name} is ${state}`);
  }
  if (parts.redis) {
    const r = await remote.run(`if ${REDIS_RUNNING}; then redis-cli -p ${ctx.fleet.redis!.port}; else echo role:stopped; fi`, {
      stdin: await redisScript(ctx, ['INFO replication']),
      timeoutMs: 15_000,
    });
    const role = /role:(\w+)/.exec(r.stdout)?.[1];
    if (role !== 'slave' && role !== 'stopped') problems.push(`Redis is ${role ?? 'unreadable'}`);
  }
  return problems;
}

/**
 * "The old primary cannot run its singletons any more", before they start elsewhere. Passes
 * when a path reaches it and they are stopped there, when the fleet's fencing command (a
 * provider's power-off) succeeded, or when a person confirmed it is off
 * (`--confirm-fenced`). Otherwise the run stops here: the singletons wait.
 */
export function fenceSingletons(machine: string, services: readonly string[], confirmedByPerson: boolean): Action {
  let how: 'stopped' | 'command' | 'person' | undefined;
  const drivers = (ctx: ActionContext) =>
    services.map((name) => {
      const spec = ctx.fleet.services[name];
      if (!spec) throw new ActionError('precondition', `service ${name} is not in the fleet file`);
      return { name, driver: driverFor(name, spec.driver, { timeoutMs: 15_000 }) };
    });
  const notFenced = (verdict: Verdict) =>
    new ActionError(
      'apply-failed',
      `${machine} is NOT fenced: no path reaches it and the fleet declares no fencing command, so ${services.join(', ')} wait ` +
        `instead of running twice. Make sure ${machine} is powered off (the provider's console), then resume this run with ` +
        `\`--confirm-fenced ${machine}\`.\n${renderVerdict(verdict)}`,
    );
  return {
    title: `Make sure ${machine} cannot run ${services.join(', ')} any more`,
    machines: [machine],
    mutating: true,
    async plan(ctx): Promise<Change[]> {
      return [
        { kind: 'note', machine, text: `if a path reaches ${machine} (directly or through a machine that sees it): stop ${services.join(', ')} there; else ${ctx.fleet.fencing ? `run the fencing command: ${ctx.fleet.fencing.command}` : confirmedByPerson ? 'a person confirmed it is off (--confirm-fenced)' : 'stop and wait for a person (--confirm-fenced)'}` },
        ...drivers(ctx).map(({ driver }): Change => ({ kind: 'command', machine, command: driver.commands.stop })),
      ];
    },
    async apply(ctx) {
      // This run's verdict (or a new one after a resume): a path is still tried for real.
      const verdict = await verdictOn(ctx, machine);
      const path = await pathTo(ctx, machine, verdict);
      if (path) {
        for (const { driver } of drivers(ctx)) await driver.stop(path.remote);
        how = 'stopped';
        return;
      }
      const fencing = ctx.fleet.fencing;
      if (fencing) {
        const m = machineNamed(ctx.fleet, machine);
        const r = await new LocalRemote(OPERATOR).run(fencing.command, {
          timeoutMs: fencing.timeoutS * 1000,
          env: { LIFEBOAT_MACHINE: m.name, LIFEBOAT_ADDRESS: m.address },
        });
        if (r.code !== 0) throw new ActionError('apply-failed', `${machine}: the fencing command exited ${r.code}: ${r.stderr.trim().split('\n').slice(-2).join(' | ')}`);
        how = 'command';
        ctx.log(`${machine} fenced by the fleet's fencing command`);
        return;
      }
      if (confirmedByPerson) {
        how = 'person';
        ctx.log(`${machine}: a person confirmed it is powered off (--confirm-fenced)`);
        return;
      }
      throw notFenced(verdict);
    },
    async verify(ctx) {
      if (how === 'command' || how === 'person') return;
      if (how === undefined && confirmedByPerson) return; // resumed after the person's word
      const verdict = await verdictOn(ctx, machine);
      const path = await pathTo(ctx, machine, verdict);
      if (!path) throw notFenced(verdict);
      const running: string[] = [];
      for (const { name, driver } of drivers(ctx)) if ((await driver.status(path.remote)) !== 'stopped') running.push(name);
      if (running.length > 0) throw new ActionError('verify-failed', `${machine} still runs ${running.join(', ')}: the singleton would run twice`);
    },
  };
}
