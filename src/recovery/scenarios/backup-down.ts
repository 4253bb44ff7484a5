/**
 * Seed runbook §4.2 — the backup application server fails.
 * Take it out of the domain list and the edges, then (with a spare) build the new backup at
 * once: its services and extra folders copied from the primary and pointed at its
 * MariaDB/Redis, only the backup's own services started, the backup's crontab installed,
 * and the new machine added to the edges.
 */
import { ActionError } from '../../actions/action.ts';
import { rewriteBindings } from '../../actions/config-bindings.ts';
import { installCrontab } from '../../actions/crontab.ts';
import { setDomainsStatus } from '../../actions/domains.ts';
import { copyTree } from '../../actions/files.ts';
import { setUpstreams } from '../../actions/nginx.ts';
import { installServiceUnits } from '../../actions/service-units.ts';
import { startServices } from '../../actions/services.ts';
import { dataUnder, installationDirs, machine, machinesWithRole, servicesOn } from '../../fleet/model.ts';
import { down, takeOver } from '../../fleet/role-changes.ts';
import type { Role } from '../../fleet/schema.ts';

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
    return steps;
  },

  rolesAfter(input, fleet) {
    const failed = machine(fleet, input.failed);
    // The spare runs the failed backup's services now; it is not a replica or a store yet.
    const spare = input.replacement ? [takeOver(failed, machine(fleet, input.replacement), SERVICE_ROLES, [])] : [];
    return [...spare, down(failed.name)];
  },

  followUps(input) {
    const items = [
      input.replacement
        ? `Make ${input.replacement} the database and Redis replica (and a backup store, if ${input.failed} was one): add db-replica and redis-replica to its roles in the fleet file and run \`lifeboat prepare\`.`
        : `The fleet has no backup app server now: \`lifeboat recover backup-down --failed ${input.failed} --replacement <spare>\`.`,
    ];
    return items;
  },
};
