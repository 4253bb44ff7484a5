/**
 * Seed runbook §4.4 and scenario 5 — no application server is left. A spare is built from
 * scratch as the new primary: MariaDB and Redis installed, the newest good backup copy
 * restored from a store that survived, every service installed from the dead primary's
 * installation archive and pointed at the spare, the dead machines' domains taken off the
 * list, and the edges switched to the spare. Both scenarios are this runbook; they differ in
 * which stores survive, which the operator sees in the plan ("restored from hk").
 */
import { ActionError } from '../../actions/action.ts';
import { rewriteBindings } from '../../actions/config-bindings.ts';
import { installCrontab } from '../../actions/crontab.ts';
import { setDomainsStatus } from '../../actions/domains.ts';
import { setUpstreams } from '../../actions/nginx.ts';
import { provisionMariadb, provisionRedis } from '../../actions/provision/index.ts';
import { loadServiceUnits } from '../../actions/service-units.ts';
import { startServices } from '../../actions/services.ts';
import { machine, machinesWithRole, servicesOn, storesInService } from '../../fleet/model.ts';
import { down, PRIMARY_ROLES, takeOver, type RoleChange } from '../../fleet/role-changes.ts';
import type { Fleet, Machine } from '../../fleet/schema.ts';
import { edgesHealthy, machineFailed, spareIsBare } from '../checks.ts';
import { fenceOldPrimary, fenceSingletons } from '../fence.ts';
import { installServicesFromArchive } from '../install-from-archive.ts';
import { restoreNewestCopy } from '../restore-dump.ts';
import { replayBinlogs } from '../../backup/binlog-replay.ts';
import { shippingStores } from '../../backup/binlogs.ts';
import { parallel, step, type Scenario, type ScenarioInput, type Step } from '../step.ts';
import { bindingsFor, domainsOf, edgesExcept, forwardedServices, localTarget, upstreamsAfter } from '../topology.ts';
import { businessAnswers } from '../verify-business.ts';

interface Lost {
  primary: Machine;
  /** Every app server and store named as lost: the primary, the backups, maybe a store. */
  machines: Machine[];
  spare: Machine;
  /** Backup stores still standing, in the order to look for copies. */
  stores: string[];
}

function lost(fleet: Fleet, input: ScenarioInput, alsoLost: (fleet: Fleet) => Machine[]): Lost {
  const primary = machine(fleet, input.failed);
  if (!primary.roles.includes('db-primary')) throw new ActionError('precondition', `${primary.name} is not the primary (roles: ${primary.roles.join(', ')})`);
  if (!input.replacement) throw new ActionError('precondition', 'say which spare becomes the new primary: --replacement SPARE');
  const spare = machine(fleet, input.replacement);
  const machines = [primary, ...machinesWithRole(fleet, 'app').filter((m) => m.name !== primary.name), ...alsoLost(fleet)];
  const names = new Set(machines.map((m) => m.name));
  const stores = storesInService(fleet).filter((s) => !names.has(s));
  if (stores.length === 0) throw new ActionError('precondition', 'no backup store survives: there is no copy to rebuild from');
  return { primary, machines: [...new Map(machines.map((m) => [m.name, m])).values()], spare, stores };
}

function rebuildSteps(fleet: Fleet, input: ScenarioInput, l: Lost, ctx: Parameters<Scenario['build']>[1]): Step[] {
  const { primary, spare } = l;
  const services = servicesOn(fleet, primary).map(([name]) => name);
  const edges = edgesExcept(fleet, l.machines.map((m) => m.name));
  const serverId = Number(spare.address.split('.').pop()) + 1000;
  const singletons = services.filter((name) => fleet.services[name]?.singleton);
  const restore = restoreNewestCopy(spare.name, { stores: l.stores });
  const shipping = shippingStores(fleet).map((m) => m.name).filter((s) => l.stores.includes(s));
  return [
    parallel('Confirm the edges are healthy, the lost machines really failed, and the spare is bare', [
      edgesHealthy(ctx, l.machines.map((m) => m.name)),
      ...l.machines.map((m) => machineFailed(m.name, input.force)),
      spareIsBare(spare.name),
    ]),
    parallel(`Install MariaDB${fleet.redis ? ' and Redis' : ''} on ${spare.name}`, [
      provisionMariadb(spare.name, { serverId, role: 'primary' }),
      ...(fleet.redis ? [provisionRedis(spare.name)] : []),
    ]),
    step(`Restore the newest good copy from ${l.stores.join(' or ')} into MariaDB on ${spare.name}`, restore),
    // Every write the stores received after the copy, up to the last one before the loss.
    ...(shipping.length
      ? [step(`Replay the binary log shipped to ${shipping.join(' or ')} on ${spare.name}, from the copy to the last transaction`,
          replayBinlogs(spare.name, { stores: shipping, from: (c) => restore.copyGtid(c) }))]
      : []),
    step(`Install ${services.join(', ')} on ${spare.name} from ${primary.name}'s installation archive`, installServicesFromArchive(primary.name, spare.name, services, l.stores)),
    step(`Point every service on ${spare.name} at its own MariaDB and Redis`, rewriteBindings(spare.name, bindingsFor(fleet, services), localTarget(fleet, spare))),
    step(`Load the units of ${services.join(', ')} on ${spare.name}`, loadServiceUnits(spare.name, services)),
    // The old primary must not take writes or run its singletons once the spare does.
    step(`Fence ${primary.name} before ${spare.name} serves`, fenceOldPrimary(primary.name, spare.name)),
    ...(singletons.length
      ? [step(`Make sure ${primary.name} cannot run its singletons before they start on ${spare.name}`,
          fenceSingletons(primary.name, singletons, (input.confirmedFenced ?? []).includes(primary.name)))]
      : []),
    // Their units were loaded after the configs were rewritten: a start reads the right ones.
    step(`Start ${services.join(', ')} on ${spare.name}`, startServices(spare.name, services)),
    // Only machines that served domains directly have rows in the domain list.
    ...(l.machines.some((m) => m.domains.length > 0)
      ? [step("Take the lost machines' domains offline in the domain list",
          l.machines.filter((m) => m.domains.length > 0).map((m) => setDomainsStatus(spare.name, m.address, 'offline')))]
      : []),
    parallel(
      `Point the nginx forwarding lists at ${spare.name}`,
      edges.map((e) => setUpstreams(e.name, upstreamsAfter(fleet, { failed: primary.name, heir: spare.name, lost: l.machines.map((m) => m.name) }))),
    ),
    businessAnswers({ fleet, domains: domainsOf(edges), services: forwardedServices(fleet, services) }),
    ...(fleet.crontabs['db-primary'] ? [step(`Install the primary's crontab on ${spare.name}`, installCrontab(spare.name, primary.roles.filter((r) => fleet.crontabs[r])))] : []),
  ];
}

/** The spare took the primary's roles; every lost machine is out of service. */
function rolesAfter(fleet: Fleet, input: ScenarioInput, l: Lost): RoleChange[] {
  const roles = PRIMARY_ROLES.filter((r) => r !== 'redis' || Boolean(fleet.redis));
  return [takeOver(l.primary, l.spare, roles, []), ...l.machines.map((m) => down(m.name))];
}

function followUps(input: ScenarioInput): string[] {
  return [
    `${input.replacement} is the primary now (the fleet file says so): provision a new backup app server and run \`lifeboat prepare\` (replication, upload sync, archives).`,
    'Writes that reached no on-site store after the restored copy was taken are lost: the run names the copy, the shipped log it replayed and where that log ended.',
    'Upload files lived on the lost machines: restore them from wherever they were copied last.',
  ];
}

export const bothAppDown: Scenario = {
  name: 'both-app-down',
  describe: 'Both application servers failed (§4.4): a spare is built from scratch as the new primary from the newest good copy on a surviving store',
  build(input, ctx) {
    return rebuildSteps(ctx.fleet, input, lost(ctx.fleet, input, () => []), ctx);
  },
  rolesAfter: (input, fleet) => rolesAfter(fleet, input, lost(fleet, input, () => [])),
  followUps,
};

export const totalLoss: Scenario = {
  name: 'total-loss',
  describe: 'Both application servers and the on-site backup stores failed (scenario 5): rebuild a spare from the off-site copy',
  build(input, ctx) {
    return rebuildSteps(ctx.fleet, input, lost(ctx.fleet, input, onsiteStores), ctx);
  },
  rolesAfter: (input, fleet) => rolesAfter(fleet, input, lost(fleet, input, onsiteStores)),
  followUps,
};

function onsiteStores(fleet: Fleet): Machine[] {
  return storesInService(fleet).map((s) => machine(fleet, s)).filter((m) => !m.offsite);
}
