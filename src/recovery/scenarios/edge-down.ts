/**
 * Seed runbook §4.1 — an nginx machine fails.
 * Confirm both app servers are healthy, take the edge off the domain list, verify the
 * business through the surviving edges; with `--replacement SPARE`, step 4 too: bring the
 * spare into service as an edge like a surviving one, put its own domains (registered in
 * advance, listed on it in the fleet file) online, and verify the business through them.
 */
import { ActionError } from '../../actions/action.ts';
import { bringDomainsOnline, setDomainsStatus } from '../../actions/domains.ts';
import { provisionEdge } from '../../actions/provision/index.ts';
import { machine, machinesWithRole } from '../../fleet/model.ts';
import { down, type RoleChange } from '../../fleet/role-changes.ts';
import type { Fleet, Machine } from '../../fleet/schema.ts';
import { edgesHealthy, machineFailed, machineHealthy, spareIsBare } from '../checks.ts';
import { parallel, step, type Scenario, type ScenarioInput, type Step } from '../step.ts';
import { domainsOf, edgesExcept, forwardedServices } from '../topology.ts';
import { businessAnswers } from '../verify-business.ts';

/** The spare that becomes the new edge, with the domains it will serve. */
function replacementOf(fleet: Fleet, input: ScenarioInput): Machine | undefined {
  if (!input.replacement) return undefined;
  const spare = machine(fleet, input.replacement);
  if (spare.name === input.failed) throw new ActionError('precondition', `--replacement ${spare.name} is the failed edge itself`);
  if (!fleet.nginx) throw new ActionError('precondition', 'the fleet file has no nginx section: lifeboat cannot tell which files make a site to copy to the new edge');
  if (spare.domains.length === 0) {
    throw new ActionError('precondition', `${spare.name} has no domains in the fleet file: list the domains registered for it (their A records at ${spare.address}) under its \`domains\`, so the new edge has names the users can reach`);
  }
  return spare;
}

export const edgeDown: Scenario = {
  name: 'edge-down',
  describe: 'An nginx edge failed (§4.1): take it off the domain list and verify the business through the others; with --replacement, a spare becomes an edge serving its own domains',

  build(input, ctx) {
    const fleet = ctx.fleet;
    const failed = machine(fleet, input.failed);
    if (!failed.roles.includes('edge')) throw new ActionError('precondition', `${failed.name} is not an edge (roles: ${failed.roles.join(', ')})`);
    const primary = machinesWithRole(fleet, 'db-primary')[0];
    if (!primary) throw new ActionError('precondition', 'the fleet has no db-primary machine holding the domain list');
    const spare = replacementOf(fleet, input);
    const apps = machinesWithRole(fleet, 'app');
    const edges = edgesExcept(fleet, [failed.name]);
    const services = forwardedServices(fleet, Object.keys(fleet.services));
    const steps: Step[] = [
      parallel(`Confirm both application servers are healthy, and the edge really failed${spare ? `; ${spare.name} is bare` : ''}`, [
        ...apps.map((m) => machineHealthy(m.name, m.name === primary.name ? 'primary app server' : 'backup app server')),
        edgesHealthy(ctx, [failed.name]),
        machineFailed(failed.name, input.force),
        ...(spare ? [spareIsBare(spare.name)] : []),
      ]),
      step("Take the failed edge's domains off the domain list", setDomainsStatus(primary.name, failed.address, 'offline')),
      businessAnswers({ fleet, domains: domainsOf(edges), services }),
    ];
    if (spare) {
      // The site of an edge that answered the check above: what the users get there.
      const model = edges[0];
      if (!model) throw new ActionError('precondition', `no surviving edge to copy the site from: ${spare.name} cannot be built like one`);
      steps.push(
        step(`Bring ${spare.name} into service as an edge like ${model.name}`, provisionEdge(spare.name, model.name)),
        step(`Put ${spare.name}'s domains online in the domain list`, bringDomainsOnline(primary.name, spare.address, spare.domains)),
        businessAnswers({ fleet, domains: spare.domains, services, title: `Verify the business answers through ${spare.name}'s domains` }),
      );
    }
    return steps;
  },

  rolesAfter(input, fleet) {
    const changes: RoleChange[] = [down(input.failed)];
    // The spare is an edge now; whatever else it held (a store, say) it keeps.
    if (input.replacement) changes.push({ machine: input.replacement, roles: [...machine(fleet, input.replacement).roles.filter((r) => r !== 'spare' && r !== 'edge'), 'edge'] });
    return changes;
  },

  followUps(input) {
    return input.replacement
      ? [`${input.failed}'s domains stay offline; if it comes back, put it back in service by hand or keep it as a spare.`]
      : [`Bring a new nginx machine into service (§4.1 step 4): \`lifeboat recover edge-down --failed ${input.failed} --replacement <spare>\` with a spare whose domains are listed in the fleet file (${input.failed}'s domains stay offline until then).`];
  },
};
