/**
 * A spare built into the backup app server (runbook §4.2 step 5, "very important", and §4.3
 * step 9, "so the fleet is not left without a backup"): MariaDB and Redis installed on it,
 * the model machine's services and extra folders copied from the primary, the model's
 * crontab installed, and everything `prepare` gives a standby, for the fleet where the spare
 * holds the model's roles (a replica seeded from the primary with semi-sync on, the Redis
 * replica, upload files synced to it, certificates, endpoints and archive); only those
 * services started (on the spare's endpoints, or pointed at the primary where the fleet has
 * none) and the spare added to the edges.
 *
 * `model` is the machine whose part the spare takes: the failed backup (backup-down), or the
 * backup as it was before it took over from the primary (primary-down). `fleet` is the fleet
 * the steps run in: for primary-down, the one after the failover.
 */
import type { ActionContext } from '../actions/action.ts';
import { rewriteBindings } from '../actions/config-bindings.ts';
import { installCrontab } from '../actions/crontab.ts';
import { copyTree } from '../actions/files.ts';
import { setUpstreams } from '../actions/nginx.ts';
import { provisionMariadb, provisionRedis } from '../actions/provision/index.ts';
import { installServiceUnits } from '../actions/service-units.ts';
import { startServices } from '../actions/services.ts';
import { dataUnder, installationDirs, machine, servicesOn } from '../fleet/model.ts';
import { down, storeInPlaceOf, takeOver, withRoleChanges, type RoleChange } from '../fleet/role-changes.ts';
import type { Fleet, Machine, Role } from '../fleet/schema.ts';
import { prepareScenario } from '../prepare/scenario.ts';
import { asFleet } from './as-fleet.ts';
import { parallel, step, type Step } from './step.ts';
import { bindingsFor, edgesExcept, localTarget, upstreamsAfter } from './topology.ts';

/** Roles a machine holds by running services, not data. */
const SERVICE_ROLES: readonly Role[] = ['app', 'upload', 'job'];

export interface StandbyFromSpare {
  /** The serving primary: the source of the copies, the replica's primary. */
  primary: Machine;
  /** The machine whose part the spare takes (its roles, services and crontab). */
  model: Machine;
  spare: string;
  /** The machine out of service, kept out of the nginx forwarding lists. */
  failed: string;
}

/**
 * What the spare holds once built: the model's services and replica roles, and, where the
 * failed machine was a backup store, its place in backups.stores with the role (§4.2 step 6:
 * "so that backups keep going", to the new backup).
 */
export function spareChanges(fleet: Fleet, model: Machine, spare: Machine, failed: string): RoleChange[] {
  const store = storeInPlaceOf(fleet, failed, spare.name);
  return [spareRoles(fleet, model, spare, store.length > 0), ...store];
}

/** The spare runs the model's services and, when it is built as the standby, holds its replica roles too. */
function spareRoles(fleet: Fleet, model: Machine, spare: Machine, store: boolean): RoleChange {
  const replicaRoles: Role[] = [
    ...(model.roles.includes('db-replica') && fleet.database ? ['db-replica' as const] : []),
    ...(model.roles.includes('redis-replica') && fleet.redis ? ['redis-replica' as const] : []),
  ];
  const taken = takeOver(model, spare, [...SERVICE_ROLES, ...replicaRoles], []);
  return store && 'roles' in taken ? { ...taken, roles: [...new Set([...taken.roles, 'backup-store' as const])] } : taken;
}

export function standbyFromSpare(ctx: ActionContext, fleet: Fleet, o: StandbyFromSpare): Step[] {
  const { primary, model, spare, failed } = o;
  const spareMachine = machine(fleet, spare);
  const services = servicesOn(fleet, model).map(([name]) => name);
  const edges = edgesExcept(fleet, [failed]);
  const standsBy = model.roles.includes('db-replica') && Boolean(fleet.database);
  const redisReplica = model.roles.includes('redis-replica') && Boolean(fleet.redis);
  const steps: Step[] = [];
  if (standsBy || redisReplica) {
    steps.push(parallel(`Install ${[standsBy ? 'MariaDB' : '', redisReplica ? 'Redis' : ''].filter(Boolean).join(' and ')} on ${spare}`, [
      ...(standsBy ? [provisionMariadb(spare, { serverId: Number(spareMachine.address.split('.').pop()) + 1000, role: 'replica' })] : []),
      ...(redisReplica ? [provisionRedis(spare)] : []),
    ]));
  }
  // The model's installation: its services' folders and the fleet's extra folders for its
  // roles, copied from the primary without their data (uploads sync on their own, dumps
  // live on the stores).
  const dirs = installationDirs(fleet, model);
  const copy = step(
    `Copy ${dirs.join(', ')} from the primary to ${spare}`,
    dirs.map((dir) => copyTree(primary.name, spare, dir, { exclude: dataUnder(fleet, dir) })),
  );
  const units = step(`Install the units of ${services.join(', ')} on ${spare}`, installServiceUnits(primary.name, spare, services));
  const start = step(`Start only ${services.join(', ')} on ${spare}`, startServices(spare, services));
  const crontab = step(`Install the backup's crontab on ${spare}`, installCrontab(spare, model.roles.filter((r) => fleet.crontabs[r])));
  const forwarded = parallel(
    `Add ${spare} to the nginx forwarding lists`,
    edges.map((e) => setUpstreams(e.name, upstreamsAfter(fleet, { failed, extraServers: [spare] }))),
  );
  const pointAtPrimary = step(`Point ${services.join(', ')} on ${spare} at the primary's MariaDB and Redis`, rewriteBindings(spare, bindingsFor(fleet, services), localTarget(fleet, primary)));
  if (!standsBy && !redisReplica) {
    steps.push(copy, pointAtPrimary, units, start, crontab, forwarded);
    return steps;
  }
  // The fleet as it will be: the spare is the replica (and whatever else the model was),
  // the failed machine out of service.
  const gone = machine(fleet, failed).down ? [] : [down(failed)];
  const after = withRoleChanges(fleet, [...spareChanges(fleet, model, spareMachine, failed), ...gone], { run: 'this run', since: new Date(0).toISOString() });
  const prepared = asFleet(after, prepareScenario().build({ failed: '' }, { ...ctx, fleet: after }) as Step[]);
  // With stable endpoints, prepare points the services at the spare's own endpoints (to the
  // primary, over TLS where the fleet has it), so they start only after it: pointed at the
  // primary's address first, they would talk to it in clear until prepare switched them (the
  // wire capture of the primary-down --new-backup drill showed it).
  // (prepare builds endpoints only for a fleet with a database.)
  if (fleet.endpoints && fleet.database) steps.push(copy, units, crontab, ...prepared, start, forwarded);
  else steps.push(copy, pointAtPrimary, units, start, crontab, forwarded, ...prepared);
  return steps;
}
