/**
 * Fencing: before a singleton (go-job, go-upload) starts on its new machine, the old copy
 * must not be able to run. A reachable old machine has its singletons stopped; an
 * unreachable one cannot run them against the live database, which is what matters, and
 * the run says so plainly so a person re-checks when it comes back.
 */
import { ActionError, type Action, type ActionContext, type Change } from '../actions/action.ts';
import { driverFor } from '../actions/drivers/index.ts';

const REACH_TIMEOUT_MS = 3000;

async function reachable(ctx: ActionContext, machine: string): Promise<boolean> {
  try {
    return (await ctx.remote(machine).run('true', { timeoutMs: REACH_TIMEOUT_MS })).code === 0;
  } catch {
    return false;
  }
}

export function fenceSingletons(machine: string, services: readonly string[]): Action {
  const drivers = (ctx: ActionContext) =>
    services.map((name) => {
      const spec = ctx.fleet.services[name];
      if (!spec) throw new ActionError('precondition', `service ${name} is not in the fleet file`);
      return { name, driver: driverFor(name, spec.driver) };
    });
  return {
    title: `Fence ${machine}: ${services.join(' and ')} must not run there any more`,
    machines: [machine],
    mutating: true,
    async plan(ctx): Promise<Change[]> {
      return [
        { kind: 'note', machine, text: `if ${machine} answers within ${REACH_TIMEOUT_MS / 1000} s: stop ${services.join(', ')}; if it does not, it cannot reach the live database` },
        ...drivers(ctx).map(({ driver }): Change => ({ kind: 'command', machine, command: driver.commands.stop })),
      ];
    },
    async apply(ctx) {
      if (!(await reachable(ctx, machine))) {
        ctx.log(`${machine} is unreachable: its ${services.join(', ')} cannot run against the live database; check it before it rejoins`);
        return;
      }
      for (const { driver } of drivers(ctx)) await driver.stop(ctx.remote(machine));
    },
    async verify(ctx) {
      if (!(await reachable(ctx, machine))) return;
      const running: string[] = [];
      for (const { name, driver } of drivers(ctx)) {
        if ((await driver.status(ctx.remote(machine))) !== 'stopped') running.push(name);
      }
      if (running.length > 0) throw new ActionError('verify-failed', `${machine} still runs ${running.join(', ')}: the singleton would run twice`);
    },
  };
}
