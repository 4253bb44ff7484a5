/**
 * The "confirm …" lines of the seed runbook as checks: they never change anything, they run
 * even under `--plan`, and a failing one stops the run before any mutating step.
 */
import type { ActionContext } from '../actions/action.ts';
import { ActionError } from '../actions/action.ts';
import { probeCommand } from '../actions/machine-probe.ts';
import { connect } from 'node:net';
import { machine as machineNamed, sshSettingsFor } from '../fleet/model.ts';
import { machineStatus, type MachineStatus, type StatusScope } from '../health/fleet-status.ts';
import { check, type ActionStep } from './step.ts';

const QUICK_PROBE_MS = 1000;
const HEALTHY_WITHIN_MS = 10_000;

/** Does anything accept a TCP connection at address:port within `timeoutMs`? */
function tcpAnswers(address: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port, timeout: timeoutMs });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

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
  if (what.data && status.mariadb && !status.mariadb.ok) out.push(`mariadb: ${status.mariadb.detail}`);
  if (what.data && status.redis && !status.redis.ok) out.push(`redis: ${status.redis.detail}`);
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
 * The machine named as failed must look failed. Recovering from a machine that is healthy
 * would take a working server out of service, so it is refused unless forced.
 */
export function machineFailed(name: string, force: boolean | undefined): ActionStep {
  return check(`Confirm ${name} has really failed`, {
    machines: [name],
    describe: force ? `skipped: --force given for ${name}` : `${name} is unreachable or its essential servers do not answer`,
    async verify(ctx) {
      if (force) return;
      // A machine whose SSH port does not even accept a connection within a second is down
      // (or cut off from the operator, which is what --force is for). Asking more would only
      // wait out SSH's and MariaDB's own connect timeouts.
      const m = machineNamed(ctx.fleet, name);
      if (!(await tcpAnswers(m.address, sshSettingsFor(ctx.fleet, m).port, QUICK_PROBE_MS))) return;
      const status = await statusOf(ctx, name);
      const found = problems(status, { services: true, data: true });
      if (found.length === 0 && status.roles.includes('edge')) {
        // An edge has no declared services: what it does is answer on port 80.
        const nginx = await ctx.remote(name).run(NGINX_PROBE, { timeoutMs: 8000 }).catch(() => undefined);
        if (!answered(nginx)) found.push('nginx does not accept connections on port 80');
      }
      if (found.length === 0) {
        throw new ActionError(
          'precondition',
          `${name} looks healthy (reachable, every service and data server answers); refusing to recover from it. ` +
            'If it fails only from some vantage points (a blocked IP or port), re-run with --force.',
        );
      }
    },
  });
}

/** A spare must be bare before it becomes anything: no services, no data, no site. */
export function spareIsBare(name: string): ActionStep {
  return check(`Confirm ${name} is a bare spare`, {
    machines: [name],
    describe: `${name} answers over SSH, holds the role spare, has no /wwwroot services, no MariaDB data and no nginx site`,
    async verify(ctx) {
      const m = machineNamed(ctx.fleet, name);
      if (!m.roles.includes('spare')) {
        throw new ActionError('precondition', `${name} is not a spare in the fleet file (roles: ${m.roles.join(', ')}); choose a machine with role spare`);
      }
      const upstreamFile = ctx.fleet.nginx?.upstreamFile ?? '/etc/nginx/conf.d/lifeboat-upstreams.conf';
      const probe = await ctx.remote(name).run(
        `found=''; for d in /wwwroot/*/*; do [ -e "$d" ] && found="$found $d"; done; ` +
          `[ -d /var/lib/mysql/mysql ] && found="$found /var/lib/mysql"; ` +
          `[ -e ${upstreamFile} ] && found="$found ${upstreamFile}"; echo "$found"`,
        { timeoutMs: 10_000 },
      );
      if (probe.code !== 0) throw new ActionError('precondition', `${name}: cannot inspect it (${probe.stderr.trim()})`);
      const found = probe.stdout.trim();
      if (found) throw new ActionError('precondition', `${name} is not bare: it already holds ${found}`);
    },
  });
}
