/**
 * `prepare`'s part for stable endpoints (fleet `endpoints`, src/actions/endpoints.ts): on
 * every machine whose services are bound to the database, HAProxy forwards 127.0.0.1 ports
 * to the live primaries, kept running by the manager its services already use, and the
 * services' bindings point at it, each running service restarted once on them.
 */
import { createHash } from 'node:crypto';
import { endpointsOf, endpointsTlsOf, liveAt, pointServicesAtEndpoints, switchEndpoints, boundServicesOn, type LiveAddresses } from '../actions/endpoints.ts';
import { ActionError } from '../actions/action.ts';
import { endpointHolders, machine } from '../fleet/model.ts';
import { servesData, tlsRequired } from '../remote/tls.ts';
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

/**
 * What of a machine's endpoints only a restart of HAProxy changes: which links use TLS, and
 * the TLS gateway. The live addresses are left out: the runtime API switches those.
 */
function endpointsShape(fleet: Fleet, m: Machine, live: LiveAddresses): string {
  const tls = endpointsTlsOf(fleet, m);
  if (!tls) return '';
  const shape = JSON.stringify({ database: Boolean(live.database.tls), redis: Boolean(live.redis?.tls), gateway: tls.gateway ?? null, ca: tls.caFile });
  return `tls-${createHash('sha256').update(shape).digest('hex').slice(0, 12)}`;
}

export function endpointSteps(fleet: Fleet, t: Topology, options: PrepareOptions, tlsInRun = false): Step[] {
  const holders = endpointHolders(fleet);
  if (holders.length === 0 || !t.dbPrimary) return [];
  const e = endpointsOf(fleet);
  // The TLS part of this run issues the data machines' certificates before this part runs.
  const live = liveAt(fleet, t.dbPrimary, t.redisPrimary, tlsInRun ? (name) => servesData(machine(fleet, name)) || tlsRequired(fleet, name) : undefined);
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
      switchEndpoints(m.name, live, { mayBeStopped: true, restartFollows: true }),
      keepRunning(`Keep HAProxy running on ${m.name}`, m.name, ENDPOINTS_PROGRAM, `${e.haproxy} -db -f ${e.config}`, keeperDriver(fleet, m), {
        keeper: options.keeper, settleMs: options.settleMs,
        // HAProxy reads TLS settings and certificates when it starts: a change of them restarts it.
        fingerprint: () => endpointsShape(fleet, m, live),
      }),
      // Applied right after the start above: HAProxy may take a moment to answer.
      switchEndpoints(m.name, live, { answerWithinMs: options.settleMs }),
      pointServicesAtEndpoints(m.name),
    ]))),
  ];
}
