/**
 * `prepare`'s part for stable endpoints (fleet `endpoints`, src/actions/endpoints.ts): on
 * every machine whose services are bound to the database, HAProxy forwards 127.0.0.1 ports
 * to the live primaries, kept running by the manager its services already use, and the
 * services' bindings point at it, each running service restarted once on them.
 */
import { endpointsOf, liveAt, pointServicesAtEndpoints, switchEndpoints, boundServicesOn } from '../actions/endpoints.ts';
import { ActionError } from '../actions/action.ts';
import { endpointHolders } from '../fleet/model.ts';
import type { DriverSpec, Fleet, Machine } from '../fleet/schema.ts';
import { check, parallel, step, type Step } from '../recovery/step.ts';
import { shq } from '../remote/remote.ts';
import type { PrepareOptions } from './prepare-options.ts';
import { keepRunning } from './sync-keeper.ts';
import type { Topology } from './topology.ts';

export const ENDPOINTS_PROGRAM = 'lifeboat-endpoints';

/** The manager that keeps HAProxy running: the one the machine's bound services use. */
function keeperDriver(fleet: Fleet, m: Machine): DriverSpec {
  const drivers = boundServicesOn(fleet, m).services.map((s) => fleet.services[s]!.driver);
  const kept = drivers.find((d) => d.type !== 'command');
  if (!kept) {
    throw new ActionError('not-supported', `${m.name}: its services are started by plain commands; lifeboat needs supervisor or systemd there to keep the endpoints (HAProxy) running`);
  }
  return kept;
}

export function endpointSteps(fleet: Fleet, t: Topology, options: PrepareOptions): Step[] {
  const holders = endpointHolders(fleet);
  if (holders.length === 0 || !t.dbPrimary) return [];
  const e = endpointsOf(fleet);
  const live = liveAt(fleet, t.dbPrimary, t.redisPrimary);
  return [
    check(`HAProxy is installed on ${holders.map((m) => m.name).join(', ')}`, {
      machines: holders.map((m) => m.name),
      describe: `${e.haproxy} is there on every machine that gets stable endpoints`,
      async verify(ctx) {
        const missing = (await Promise.all(holders.map(async (m) => ((await ctx.remote(m.name).run(`test -x ${shq(e.haproxy)}`, { timeoutMs: 10_000 })).code === 0 ? [] : [m.name])))).flat();
        if (missing.length) throw new ActionError('precondition', `${e.haproxy} is missing on ${missing.join(', ')}: install Debian's haproxy package there (apt-get install haproxy), or remove \`endpoints\` from the fleet file`);
      },
    }),
    parallel('Stable endpoints for the database and Redis on the app servers', holders.map((m) => step(`Stable endpoints on ${m.name}`, [
      // The configuration first, so HAProxy starts forwarding to the right place.
      switchEndpoints(m.name, live, { mayBeStopped: true }),
      keepRunning(`Keep HAProxy running on ${m.name}`, m.name, ENDPOINTS_PROGRAM, `${e.haproxy} -db -f ${e.config}`, keeperDriver(fleet, m), {
        keeper: options.keeper, settleMs: options.settleMs,
      }),
      // Applied right after the start above: HAProxy may take a moment to answer.
      switchEndpoints(m.name, live, { answerWithinMs: options.settleMs }),
      pointServicesAtEndpoints(m.name),
    ]))),
  ];
}
