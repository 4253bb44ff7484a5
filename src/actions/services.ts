/**
 * Start, stop and restart the business's services on one machine (runbook §4.3 steps 6 and
 * 11), through the driver the fleet names for each. Verification asks the driver AND the
 * service itself (its health check, run on the machine), because "RUNNING" in supervisor
 * only means the process exists.
 */
import type { Service } from '../fleet/schema.ts';
import { ActionError, type Action, type ActionContext, type Change } from './action.ts';
import { driverFor, ServiceDriverError, type DriverOptions, type ServiceDriver, type ServiceState } from './drivers/index.ts';
import { describeProbe, probeAllUntil } from './machine-probe.ts';
import { healthProbe } from './service-health.ts';

export interface ServicesOptions {
  drivers?: DriverOptions;
  /** How long verify waits for a service to come up and answer. Default 5000 ms. */
  verifyWithinMs?: number;
  /**
   * Where the health check connects, from the machine itself. Default 127.0.0.1 (services
   * listening on every interface answer there); pass the machine's address for services
   * bound to it only.
   */
  healthHost?: string;
}

type Operation = 'start' | 'stop' | 'restart';

function lookUp(ctx: ActionContext, name: string): Service {
  const service = ctx.fleet.services[name];
  if (!service) throw new ActionError('precondition', `no service ${JSON.stringify(name)} in the fleet file`);
  return service;
}

async function statusOf(ctx: ActionContext, machine: string, driver: ServiceDriver): Promise<ServiceState> {
  return driver.status(ctx.remote(machine));
}

async function waitForState(ctx: ActionContext, machine: string, driver: ServiceDriver, want: ServiceState, withinMs: number): Promise<ServiceState> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const state = await statusOf(ctx, machine, driver);
    if (state === want || Date.now() + 100 > deadline) return state;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Runs `work` for every service at once (a switch-over waits for the slowest service, not
 * for the sum) and reports every failure, not only the first.
 */
async function forEach<T>(items: readonly T[], code: ActionError['code'], work: (item: T) => Promise<void>): Promise<void> {
  const results = await Promise.allSettled(items.map(work));
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (failures.length === 0) return;
  if (failures.length === 1 && failures[0] instanceof ActionError) throw failures[0];
  const messages = failures.map((f) => (f instanceof Error ? f.message : String(f)));
  throw new ActionError(code, messages.join('; '), { cause: failures[0] });
}

function servicesAction(operation: Operation, machine: string, names: readonly string[], options: ServicesOptions): Action {
  const within = options.verifyWithinMs ?? 5000;
  const drivers = (ctx: ActionContext) =>
    names.map((name) => {
      const service = lookUp(ctx, name);
      return { name, service, driver: driverFor(name, service.driver, options.drivers) };
    });
  const verb = { start: 'Start', stop: 'Stop', restart: 'Restart' }[operation];

  async function verifyUp(ctx: ActionContext): Promise<void> {
    const list = drivers(ctx);
    await forEach(list, 'verify-failed', async ({ name, driver }) => {
      const state = await waitForState(ctx, machine, driver, 'running', within);
      if (state !== 'running') throw new ActionError('verify-failed', `${machine}: ${name} is ${state}, expected running`);
    });
    // Every service's health check in one command per round (see probeAllUntil).
    const checked = list.flatMap(({ name, service }) => (service.health ? [{ name, probe: healthProbe(service.health, options.healthHost) }] : []));
    const results = await probeAllUntil(ctx.remote(machine), checked.map((c) => c.probe), within);
    await forEach(checked.map((c, i) => ({ ...c, result: results[i]! })), 'verify-failed', async ({ name, probe, result }) => {
      if (!result.ok) throw new ActionError('verify-failed', `${machine}: ${name} runs but its health check failed: ${describeProbe(probe)}: ${result.detail}`);
    });
  }

  function verifyDown(ctx: ActionContext): Promise<void> {
    return forEach(drivers(ctx), 'verify-failed', async ({ name, driver }) => {
      const state = await waitForState(ctx, machine, driver, 'stopped', within);
      if (state !== 'stopped') throw new ActionError('verify-failed', `${machine}: ${name} is ${state}, expected stopped`);
    });
  }

  function run(ctx: ActionContext, op: Operation, errorCode: ActionError['code']): Promise<void> {
    const remote = ctx.remote(machine);
    return forEach(drivers(ctx), errorCode, async ({ name, driver }) => {
      try {
        // Skipping what is already done keeps start/stop safe to re-apply after an interruption.
        if (op === 'start' && (await driver.status(remote)) === 'running') return;
        if (op === 'stop' && (await driver.status(remote)) === 'stopped') return;
        await driver[op](remote);
      } catch (error) {
        // The command may fail because the state was reached meanwhile ("already started").
        const state = await driver.status(remote).catch(() => 'unknown' as const);
        if ((op !== 'stop' && state === 'running') || (op === 'stop' && state === 'stopped')) return;
        const detail = error instanceof ServiceDriverError || error instanceof Error ? error.message : String(error);
        throw new ActionError(errorCode, `${machine}: could not ${op} ${name}: ${detail}`, { cause: error });
      }
      ctx.log(`${machine}: ${op} ${name}`);
    });
  }

  const action: Action = {
    title: `${verb} ${names.join(', ')} on ${machine}`,
    machines: [machine],
    mutating: true,
    async plan(ctx) {
      const changes: Change[] = [];
      for (const { name, driver } of drivers(ctx)) {
        const state = await statusOf(ctx, machine, driver);
        if ((operation === 'start' && state === 'running') || (operation === 'stop' && state === 'stopped')) {
          changes.push({ kind: 'note', machine, text: `${name} is already ${state}` });
        } else {
          changes.push({ kind: 'command', machine, command: driver.commands[operation] });
        }
      }
      return changes;
    },
    apply: (ctx) => run(ctx, operation, 'apply-failed'),
    verify: (ctx) => (operation === 'stop' ? verifyDown(ctx) : verifyUp(ctx)),
  };
  if (operation !== 'restart') {
    action.undo = (ctx) => run(ctx, operation === 'start' ? 'stop' : 'start', 'undo-failed');
  }
  return action;
}

export function startServices(machine: string, names: readonly string[], options: ServicesOptions = {}): Action {
  return servicesAction('start', machine, names, options);
}

export function stopServices(machine: string, names: readonly string[], options: ServicesOptions = {}): Action {
  return servicesAction('stop', machine, names, options);
}

/** Restarts every time it is applied: re-applying after an interruption restarts once more, which is harmless. */
export function restartServices(machine: string, names: readonly string[], options: ServicesOptions = {}): Action {
  return servicesAction('restart', machine, names, options);
}

/** The state each driver reports, for status displays. */
export async function serviceStates(ctx: ActionContext, machine: string, names: readonly string[], options: DriverOptions = {}): Promise<Record<string, ServiceState>> {
  // Asked side by side: each answer can cost a process start on the machine (supervisorctl).
  const states = await Promise.all(names.map((name) => driverFor(name, lookUp(ctx, name).driver, options).status(ctx.remote(machine))));
  return Object.fromEntries(names.map((name, i) => [name, states[i]!]));
}
