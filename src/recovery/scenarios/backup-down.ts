/**
 * Seed runbook §4.2 — the backup application server fails.
 * Take it out of the domain list and the edges, then (with a spare) build the new backup at
 * once (step 5, "very important"): MariaDB and Redis installed on it, its services and extra
 * folders copied from the primary and pointed at its MariaDB/Redis, only the backup's own
 * services started, the backup's crontab installed, the new machine added to the edges —
 * and then everything `prepare` gives a standby, for the fleet where the spare holds the
 * failed machine's roles: a MariaDB replica seeded from the live primary with semi-sync on,
 * the Redis replica, upload files synced to it, its certificates, endpoints and archive. The
 * run ends with the fleet as prepared as before the failure.
 */
import { ActionError } from '../../actions/action.ts';
import { rewriteBindings } from '../../actions/config-bindings.ts';
import { installCrontab } from '../../actions/crontab.ts';
import { setDomainsStatus } from '../../actions/domains.ts';
import { copyTree } from '../../actions/files.ts';
import { setUpstreams } from '../../actions/nginx.ts';
import { installServiceUnits } from '../../actions/service-units.ts';
import { startServices } from '../../actions/services.ts';
import { provisionMariadb, provisionRedis } from '../../actions/provision/index.ts';
import { dataUnder, installationDirs, machine, machinesWithRole, servicesOn } from '../../fleet/model.ts';
import { down, takeOver, withRoleChanges, type RoleChange } from '../../fleet/role-changes.ts';
import type { Fleet, Machine, Role } from '../../fleet/schema.ts';
import { prepareScenario } from '../../prepare/scenario.ts';
import { asFleet } from '../as-fleet.ts';

/** Roles a machine holds by running services, not data. */
const SERVICE_ROLES: readonly Role[] = ['app', 'upload', 'job'];
import { edgesHealthy, machineFailed, machineHealthy, spareIsBare } from '../checks.ts';
import { parallel, step, type Scenario, type Step } from '../step.ts';
import { bindingsFor, domainsOf, edgesExcept, forwardedServices, localTarget, upstreamsAfter } from '../topology.ts';
import { businessAnswers } from '../verify-business.ts';

export const backupDown: Scenario = {
  name: 'backup-down',
  describe: 'The backup application server failed (§4.2): take it out of service and build a new backup from a spare',

  build(input, ctx) {
    const fleet = ctx.fleet;
    const failed = machine(fleet, input.failed);
    const primary = machinesWithRole(fleet, 'db-primary')[0];
    if (!primary) throw new ActionError('precondition', 'the fleet has no db-primary machine to keep serving');
    if (failed.name === primary.name) {
      throw new ActionError('precondition', `${failed.name} is the primary: use primary-down for it`);
    }
    if (!failed.roles.includes('app')) throw new ActionError('precondition', `${failed.name} is not an app server (roles: ${failed.roles.join(', ')})`);
    const edges = edgesExcept(fleet, [failed.name]);
    const services = servicesOn(fleet, failed).map(([name]) => name);
    const steps: Step[] = [
      parallel('Confirm the primary and the nginx machines are healthy, and the backup really failed', [
        machineHealthy(primary.name, 'primary app server'),
        edgesHealthy(ctx, [failed.name]),
        machineFailed(failed.name, input.force),
        // Checked first: a spare that is not bare must stop the run before anything changes.
        ...(input.replacement ? [spareIsBare(input.replacement)] : []),
      ]),
      step("Take the backup's domains off the domain list", setDomainsStatus(primary.name, failed.address, 'offline')),
      parallel(
        'Remove the dead machine from the nginx forwarding lists',
        edges.map((e) => setUpstreams(e.name, upstreamsAfter(fleet, { failed: failed.name }))),
      ),
      businessAnswers({ fleet, domains: domainsOf(edges), services: forwardedServices(fleet, services) }),
    ];
    const spare = input.replacement;
    if (!spare) return steps;
    const spareMachine = machine(fleet, spare);
    const standsBy = failed.roles.includes('db-replica') && Boolean(fleet.database);
    const redisReplica = failed.roles.includes('redis-replica') && Boolean(fleet.redis);
    if (standsBy || redisReplica) {
      steps.push(parallel(`Install ${[standsBy ? 'MariaDB' : '', redisReplica ? 'Redis' : ''].filter(Boolean).join(' and ')} on ${spare}`, [
        ...(standsBy ? [provisionMariadb(spare, { serverId: Number(spareMachine.address.split('.').pop()) + 1000, role: 'replica' })] : []),
        ...(redisReplica ? [provisionRedis(spare)] : []),
      ]));
    }

    // The failed machine's installation: its services' folders and the fleet's extra folders
    // for its roles, copied from the primary without their data (uploads sync on their own,
    // dumps live on the stores).
    const dirs = installationDirs(fleet, failed);
    steps.push(
      step(
        `Copy ${dirs.join(', ')} from the primary to ${spare}`,
        dirs.map((dir) => copyTree(primary.name, spare, dir, { exclude: dataUnder(fleet, dir) })),
      ),
      step(`Point ${services.join(', ')} on ${spare} at the primary's MariaDB and Redis`, rewriteBindings(spare, bindingsFor(fleet, services), localTarget(fleet, primary))),
      step(`Install the units of ${services.join(', ')} on ${spare}`, installServiceUnits(primary.name, spare, services)),
      step(`Start only ${services.join(', ')} on ${spare}`, startServices(spare, services)),
      step(`Install the backup's crontab on ${spare}`, installCrontab(spare, failed.roles.filter((r) => fleet.crontabs[r]))),
      parallel(
        `Add ${spare} to the nginx forwarding lists`,
        edges.map((e) => setUpstreams(e.name, upstreamsAfter(fleet, { failed: failed.name, extraServers: [spare] }))),
      ),
    );
    if (standsBy || redisReplica) {
      // The fleet as it will be: the spare is the replica (and whatever else the failed backup was).
      const after = withRoleChanges(fleet, rolesAfter(fleet, failed, spareMachine), { run: 'this run', since: new Date(0).toISOString() });
      const prepared = prepareScenario().build({ failed: '' }, { ...ctx, fleet: after });
      steps.push(...asFleet(after, prepared as Step[]));
    }
    return steps;
  },

  rolesAfter(input, fleet) {
    const failed = machine(fleet, input.failed);
    return input.replacement ? rolesAfter(fleet, failed, machine(fleet, input.replacement)) : [down(failed.name)];
  },

  followUps(input) {
    const items = [
      input.replacement
        ? `${input.replacement} stands by now (replica, Redis replica, upload files); if ${input.failed} was a backup store, name ${input.replacement} in backups.stores instead and run \`lifeboat prepare\` so copies go there.`
        : `The fleet has no backup app server now: \`lifeboat recover backup-down --failed ${input.failed} --replacement <spare>\`.`,
    ];
    return items;
  },
};

/**
 * The spare runs the failed backup's services and, when it is built as the standby, holds its
 * replica roles too; the failed machine holds nothing. (A store is named in backups.stores,
 * which a role does not change: that is left to a person, see the follow-ups.)
 */
function rolesAfter(fleet: Fleet, failed: Machine, spare: Machine): RoleChange[] {
  const replicaRoles: Role[] = [
    ...(failed.roles.includes('db-replica') && fleet.database ? ['db-replica' as const] : []),
    ...(failed.roles.includes('redis-replica') && fleet.redis ? ['redis-replica' as const] : []),
  ];
  return [takeOver(failed, spare, [...SERVICE_ROLES, ...replicaRoles], []), down(failed.name)];
}
