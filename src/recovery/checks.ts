/**
 * The "confirm …" lines of the seed runbook as checks: they never change anything, they run
 * even under `--plan`, and a failing one stops the run before any mutating step.
 */
import type { ActionContext } from '../actions/action.ts';
import { ActionError } from '../actions/action.ts';
import { probeCommand } from '../actions/machine-probe.ts';
import { allInstallationDirs, machine as machineNamed } from '../fleet/model.ts';
import { DEBIAN_MARIADB_PATHS } from '../actions/provision/mariadb-config.ts';
import { shq } from '../remote/remote.ts';
import { judgeMachine, recentVerdict, rememberVerdict, renderVerdict } from '../health/verdict.ts';
import { machineStatus, type MachineStatus, type StatusScope } from '../health/fleet-status.ts';
import { check, type ActionStep } from './step.ts';

const HEALTHY_WITHIN_MS = 10_000;
/** How old a `dead` verdict may be and still stand for "really failed". */
const FRESH_DEAD_MS = 10_000;

// nginx accepting a connection on port 80 is the edge's health: any HTTP request would go
// through to the upstreams, and with the app servers dead it waits out their timeouts.
const NGINX_PROBE = probeCommand({ type: 'tcp', host: '127.0.0.1', port: 80 }, 2);
const answered = (result: { code: number | null } | undefined) => result?.code === 0;

async function statusOf(ctx: ActionContext, name: string, scope?: StatusScope): Promise<MachineStatus> {
  return machineStatus(ctx.fleet, machineNamed(ctx.fleet, name), { remote: ctx.remote, secret: ctx.secret }, scope);
}

function problems(status: MachineStatus, what: { services: boolean; data: boolean }): string[] {
  const out: string[] = [];
  if (!status.reachable) out.push(`unreachable (${status.error ?? 'no answer'})`);
  if (what.services) for (const s of status.services) if (!s.healthy) out.push(`${s.name}: ${s.detail}`);
  // A replica that stopped receiving still answers: whether promoting it loses anything is
  // the database step's decision (with the window named), not a reason to call it unhealthy.
  if (what.data && status.mariadb && !(status.mariadb.answers ?? status.mariadb.ok)) out.push(`mariadb: ${status.mariadb.detail}`);
  // Likewise a Redis replica whose link to the dead primary is down still answers.
  if (what.data && status.redis && !(status.redis.answers ?? status.redis.ok)) out.push(`redis: ${status.redis.detail}`);
  return out;
}

/**
 * "Confirm the <label> is healthy". `services: false` when its services are expected to be
 * failing because they depend on the machine that died (the backup's services use the
 * primary's database until the switch-over).
 */
export function machineHealthy(name: string, label: string, what = { services: true, data: true }): ActionStep {
  return check(`Confirm the ${label} (${name}) is healthy`, {
    machines: [name],
    describe: `${name} answers over SSH${what.data ? ', its MariaDB/Redis answer' : ''}${what.services ? ', its services pass their health checks' : ''}`,
    async verify(ctx) {
      // Asked again for a few seconds: right after a replica dies, the primary's commits wait
      // out the semi-sync timeout once, and its services answer slowly meanwhile.
      const deadline = Date.now() + HEALTHY_WITHIN_MS;
      for (;;) {
        const found = problems(await statusOf(ctx, name, what), what);
        if (found.length === 0) return;
        if (Date.now() > deadline) throw new ActionError('precondition', `${name} is not healthy: ${found.join('; ')}`);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    },
  });
}

/** "Confirm the nginx machines are healthy": every edge but the failed one is reachable and serving. */
export function edgesHealthy(ctx: ActionContext, except: readonly string[] = []): ActionStep {
  const edges = ctx.fleet.machines.filter((m) => m.roles.includes('edge') && !except.includes(m.name)).map((m) => m.name);
  return check('Confirm the nginx machines are healthy', {
    machines: edges,
    describe: `${edges.join(', ') || 'no edge'} answer over SSH and nginx accepts connections on port 80`,
    async verify(c) {
      if (edges.length === 0) throw new ActionError('precondition', 'no healthy edge is left to carry the traffic');
      const failures: string[] = [];
      await Promise.all(
        edges.map(async (edge) => {
          try {
            const result = await c.remote(edge).run(NGINX_PROBE, { timeoutMs: 8000 });
            if (!answered(result)) failures.push(`${edge}: nginx does not accept connections on port 80`);
          } catch (error) {
            failures.push(`${edge}: ${(error as Error).message}`);
          }
        }),
      );
      if (failures.length > 0) throw new ActionError('precondition', failures.join('; '));
    },
  });
}

/**
 * The machine named as failed must really have failed, judged by THE verdict (every vantage
 * point that should see it, `health/verdict.ts`): `dead` passes; `alive` passes only when
 * its essential servers do not answer (a reachable machine is then fenced for real); a split
 * view (`unreachable-from-some`) or too few answers (`unknown`) is refused with the vantage
 * table, unless `--force` says a person has judged it. The verdict is kept for the fence.
 */
export function machineFailed(name: string, force: boolean | undefined): ActionStep {
  return check(`Confirm ${name} has really failed`, {
    machines: [name],
    describe:
      `every vantage point that should see ${name} (the operator and the machines that talk to it) agrees it is down, ` +
      `or it answers but its essential servers do not` +
      (force ? '; --force: a split or unknown view is accepted, and the machine is fenced through a path that still sees it' : ''),
    async verify(ctx) {
      // A `dead` verdict reached seconds ago (the daemon's confirming round, in this process)
      // is the same evidence: judging again would only wait out the dead machine's time-outs.
      const known = recentVerdict(ctx.fleet, name, FRESH_DEAD_MS);
      const verdict = known?.kind === 'dead' ? known : await judgeMachine(ctx, name);
      rememberVerdict(ctx.fleet, verdict);
      if (verdict.kind === 'dead') return;
      if (verdict.kind === 'alive') {
        const found = await essentialProblems(ctx, name);
        if (found.length > 0) return;
        if (force) {
          ctx.log(`--force: ${name} looks healthy, recovering from it anyway`);
          return;
        }
        throw new ActionError(
          'precondition',
          `${name} looks healthy (reachable, every service and data server answers); refusing to recover from it. ` +
            'If it fails only from some vantage points (a blocked IP or port), re-run with --force.',
        );
      }
      const table = renderVerdict(verdict);
      if (force) {
        ctx.log(`--force: acting although the verdict is ${verdict.kind}:\n${table}`);
        return;
      }
      throw new ActionError(
        'precondition',
        `${name} is not dead but ${verdict.kind}: ${verdict.reason}. Nothing was changed: recovering now could leave two primaries. ` +
          `Look at the table, then fix the path, or re-run with --force to fence ${name} through a path that sees it and take over.\n${table}`,
      );
    },
  });
}

/** What of a reachable machine does not work, seen from the operator (its services, data, nginx). */
async function essentialProblems(ctx: ActionContext, name: string): Promise<string[]> {
  const status = await statusOf(ctx, name);
  const found = problems(status, { services: true, data: true });
  if (found.length === 0 && status.roles.includes('edge')) {
    // An edge has no declared services: what it does is answer on port 80. A probe that
    // cannot be run says nothing about nginx: it fails the check rather than count as "down".
    const nginx = await ctx.remote(name).run(NGINX_PROBE, { timeoutMs: 8000 });
    if (!answered(nginx)) found.push('nginx does not accept connections on port 80');
  }
  return found;
}

/** A spare must be bare before it becomes anything: no services, no data, no site. */
export function spareIsBare(name: string): ActionStep {
  return check(`Confirm ${name} is a bare spare`, {
    machines: [name],
    describe: `${name} answers over SSH, holds the role spare, has none of the fleet's service or extra folders, no MariaDB data and no nginx upstream file`,
    async verify(ctx) {
      const m = machineNamed(ctx.fleet, name);
      if (!m.roles.includes('spare')) {
        throw new ActionError('precondition', `${name} is not a spare in the fleet file (roles: ${m.roles.join(', ')}); choose a machine with role spare`);
      }
      // A folder the fleet's installation would put here (empty parents a spare's image may
      // have made do not count: a non-empty folder does), the database, the edge's file.
      const folders = allInstallationDirs(ctx.fleet);
      const files = ctx.fleet.nginx ? [ctx.fleet.nginx.upstreamFile] : [];
      const probe = await ctx.remote(name).run(
        `found=''; for d in ${folders.map(shq).join(' ') || '""'}; do [ -d "$d" ] && [ -n "$(ls -A "$d" 2>/dev/null)" ] && found="$found $d"; done; ` +
          `[ -d ${shq(DEBIAN_MARIADB_PATHS.datadir)}/mysql ] && found="$found ${DEBIAN_MARIADB_PATHS.datadir}"; ` +
          `for f in ${files.map(shq).join(' ') || '""'}; do [ -e "$f" ] && found="$found $f"; done; echo "$found"`,
        { timeoutMs: 10_000 },
      );
      if (probe.code !== 0) throw new ActionError('precondition', `${name}: cannot inspect it (${probe.stderr.trim()})`);
      const found = probe.stdout.trim();
      if (found) throw new ActionError('precondition', `${name} is not bare: it already holds ${found}`);
    },
  });
}
