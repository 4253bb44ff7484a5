/**
 * Installing a service's unit on a new machine (seed §4.2 step 5): the file that tells the
 * machine's service manager how to run it — a supervisor program section or a systemd
 * unit — copied from a machine that runs the service today, then loaded. Services driven
 * by plain commands have no unit; their start command is the whole story.
 */
import type { DriverSpec } from '../fleet/schema.ts';
import { RemoteError, runChecked, shq } from '../remote/remote.ts';
import { ActionError, type Action, type ActionContext, type Change } from './action.ts';

interface UnitKind<T extends DriverSpec['type']> {
  /** Where the unit of `service` lives on a machine, if the driver has units. */
  path(service: string, spec: Extract<DriverSpec, { type: T }>): string | undefined;
  /** Makes the service manager read new units without starting anything new. */
  reload: string | undefined;
}

export const unitKinds = {
  supervisor: { path: (s, spec) => `/etc/supervisor/conf.d/${spec.program ?? s}.conf`, reload: 'supervisorctl reread' },
  systemd: { path: (s, spec) => `/etc/systemd/system/${spec.unit ?? `${s}.service`}`, reload: 'systemctl daemon-reload' },
  command: { path: () => undefined, reload: undefined },
} satisfies { [T in DriverSpec['type']]: UnitKind<T> };

/** Where the unit of a service lives on a machine; undefined for drivers without units. */
export function unitPathOf(service: string, spec: DriverSpec): string | undefined {
  return (unitKinds[spec.type] as UnitKind<DriverSpec['type']>).path(service, spec as never);
}

function unitsOf(ctx: ActionContext, services: readonly string[]): Array<{ service: string; path: string; spec: DriverSpec }> {
  return services.flatMap((service) => {
    const spec = ctx.fleet.services[service]?.driver;
    if (!spec) throw new ActionError('precondition', `service ${service} is not in the fleet file`);
    const path = unitPathOf(service, spec);
    return path ? [{ service, path, spec }] : [];
  });
}

async function read(ctx: ActionContext, machine: string, path: string): Promise<string | undefined> {
  try {
    return (await ctx.remote(machine).readFile(path)).toString('utf8');
  } catch (error) {
    if (error instanceof RemoteError && error.code === 'file-not-found') return undefined;
    throw error;
  }
}

/** Copies the units of `services` from `from` to `to` and has the service manager load them. */
export function installServiceUnits(from: string, to: string, services: readonly string[]): Action {
  return {
    title: `Install the units of ${services.join(', ')} on ${to} (copied from ${from})`,
    machines: [from, to],
    mutating: true,
    async plan(ctx): Promise<Change[]> {
      const units = unitsOf(ctx, services);
      const reloads = [...new Set(units.map((u) => unitKinds[u.spec.type].reload).filter((r): r is string => !!r))];
      return [
        ...units.map((u): Change => ({ kind: 'note', machine: to, text: `copy ${u.path} from ${from}` })),
        ...reloads.map((command): Change => ({ kind: 'command', machine: to, command })),
      ];
    },
    async apply(ctx) {
      const units = unitsOf(ctx, services);
      for (const u of units) {
        const text = await read(ctx, from, u.path);
        if (text === undefined) throw new ActionError('apply-failed', `${from}: ${u.path} does not exist, so ${u.service}'s unit cannot be copied`);
        await runChecked(ctx.remote(to), `mkdir -p ${shq(u.path.replace(/\/[^/]+$/, ''))}`);
        await ctx.remote(to).writeFile(u.path, text, { backup: true });
      }
      await loadUnits(ctx, to, units);
    },
    async verify(ctx) {
      for (const u of unitsOf(ctx, services)) {
        const [source, target] = await Promise.all([read(ctx, from, u.path), read(ctx, to, u.path)]);
        if (target === undefined || target !== source) throw new ActionError('verify-failed', `${to}: ${u.path} is not the unit ${from} has`);
      }
    },
  };
}

async function loadUnits(ctx: ActionContext, machine: string, units: ReturnType<typeof unitsOf>): Promise<void> {
  for (const reload of new Set(units.map((u) => unitKinds[u.spec.type].reload))) {
    if (reload) await runChecked(ctx.remote(machine), reload, { timeoutMs: 30_000 });
  }
  // supervisor learns new programs through `update` (one call for all of them; it starts
  // the ones whose autostart says so and leaves unchanged ones alone).
  const programs = units.filter((x) => x.spec.type === 'supervisor').map((u) => (u.spec as Extract<DriverSpec, { type: 'supervisor' }>).program ?? u.service);
  if (programs.length > 0) await runChecked(ctx.remote(machine), `supervisorctl update ${programs.map(shq).join(' ')}`, { timeoutMs: 60_000 });
}

async function supervisorKnows(ctx: ActionContext, machine: string, program: string): Promise<boolean> {
  const status = await ctx.remote(machine).run(`supervisorctl status ${shq(program)}`, { timeoutMs: 15_000 });
  return !/no such process/i.test(status.stdout + status.stderr);
}

/** Has the service manager on `machine` read the units of `services` already on its disk. */
export function loadServiceUnits(machine: string, services: readonly string[]): Action {
  return {
    title: `Load the units of ${services.join(', ')} on ${machine}`,
    machines: [machine],
    mutating: true,
    async plan(ctx): Promise<Change[]> {
      const units = unitsOf(ctx, services);
      const programs = units.filter((x) => x.spec.type === 'supervisor').map((u) => (u.spec as Extract<DriverSpec, { type: 'supervisor' }>).program ?? u.service);
      const reloads = [...new Set(units.map((u) => unitKinds[u.spec.type].reload).filter((r): r is string => !!r))];
      return [...reloads, ...(programs.length ? [`supervisorctl update ${programs.map(shq).join(' ')}`] : [])].map((command): Change => ({ kind: 'command', machine, command }));
    },
    apply: (ctx) => loadUnits(ctx, machine, unitsOf(ctx, services)),
    async verify(ctx) {
      for (const u of unitsOf(ctx, services).filter((x) => x.spec.type === 'supervisor')) {
        const program = (u.spec as Extract<DriverSpec, { type: 'supervisor' }>).program ?? u.service;
        if (!(await supervisorKnows(ctx, machine, program))) throw new ActionError('verify-failed', `${machine}: supervisor does not know ${program} after loading its unit`);
      }
    },
  };
}
