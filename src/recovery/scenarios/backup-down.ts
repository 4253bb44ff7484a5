/**
 * Seed runbook §4.2 — the backup application server fails.
 * Take it out of the domain list and the edges, then (with a spare) build the new backup at
 * once (step 5, "very important"): `standby-from-spare.ts`. The run ends with the fleet as
 * prepared as before the failure.
 */
import { ActionError } from '../../actions/action.ts';
import { setDomainsStatus } from '../../actions/domains.ts';
import { setUpstreams } from '../../actions/nginx.ts';
import { machine, machinesWithRole, servicesOn } from '../../fleet/model.ts';
import { down, type RoleChange } from '../../fleet/role-changes.ts';
import type { Fleet, Machine } from '../../fleet/schema.ts';
import { edgesHealthy, machineFailed, machineHealthy, spareIsBare } from '../checks.ts';
import { spareChanges, standbyFromSpare } from '../standby-from-spare.ts';
import { parallel, step, type Scenario, type Step } from '../step.ts';
import { domainsOf, edgesExcept, forwardedServices, upstreamsAfter } from '../topology.ts';
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
    if (!input.replacement) return steps;
    steps.push(...standbyFromSpare(ctx, fleet, { primary, model: failed, spare: input.replacement, failed: failed.name }));
    return steps;
  },

  rolesAfter(input, fleet) {
    const failed = machine(fleet, input.failed);
    return input.replacement ? rolesAfter(fleet, failed, machine(fleet, input.replacement)) : [down(failed.name)];
  },

  followUps(input) {
    const items = [
      input.replacement
        ? `${input.replacement} stands by now (replica, Redis replica, upload files); where ${input.failed} was a backup store, ${input.replacement} has taken its place in backups.stores (the fleet file says so) and the binary log is shipped there.`
        : `The fleet has no backup app server now: \`lifeboat recover backup-down --failed ${input.failed} --replacement <spare>\`.`,
    ];
    return items;
  },
};

function rolesAfter(fleet: Fleet, failed: Machine, spare: Machine): RoleChange[] {
  return [...spareChanges(fleet, failed, spare, failed.name), down(failed.name)];
}
