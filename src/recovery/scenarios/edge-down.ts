/**
 * Seed runbook §4.1 — an nginx machine fails.
 * Confirm both app servers are healthy, take the edge off the domain list, verify the
 * business through the surviving edges.
 */
import { ActionError } from '../../actions/action.ts';
import { setDomainsStatus } from '../../actions/domains.ts';
import { machine, machinesWithRole } from '../../fleet/model.ts';
import { down } from '../../fleet/role-changes.ts';
import { edgesHealthy, machineFailed, machineHealthy } from '../checks.ts';
import { parallel, step, type Scenario } from '../step.ts';
import { domainsOf, edgesExcept, forwardedServices } from '../topology.ts';
import { businessAnswers } from '../verify-business.ts';

export const edgeDown: Scenario = {
  name: 'edge-down',
  describe: 'An nginx edge failed (§4.1): take it off the domain list and verify the business through the others',

  build(input, ctx) {
    const fleet = ctx.fleet;
    const failed = machine(fleet, input.failed);
    if (!failed.roles.includes('edge')) throw new ActionError('precondition', `${failed.name} is not an edge (roles: ${failed.roles.join(', ')})`);
    const primary = machinesWithRole(fleet, 'db-primary')[0];
    if (!primary) throw new ActionError('precondition', 'the fleet has no db-primary machine holding the domain list');
    const apps = machinesWithRole(fleet, 'app');
    const edges = edgesExcept(fleet, [failed.name]);
    return [
      parallel('Confirm both application servers are healthy, and the edge really failed', [
        ...apps.map((m) => machineHealthy(m.name, m.name === primary.name ? 'primary app server' : 'backup app server')),
        edgesHealthy(ctx, [failed.name]),
        machineFailed(failed.name, input.force),
      ]),
      step("Take the failed edge's domains off the domain list", setDomainsStatus(primary.name, failed.address, 'offline')),
      businessAnswers({ fleet, domains: domainsOf(edges), services: forwardedServices(fleet, Object.keys(fleet.services)) }),
    ];
  },

  rolesAfter(input) {
    return [down(input.failed)];
  },

  followUps(input) {
    return [
      `Bring a new nginx machine into service (§4.1 step 4): copy the site from a surviving edge, then put its domains back online (${input.failed}'s domains stay offline until then).`,
    ];
  },
};
