/**
 * Seed runbook §4.3 — the primary application server fails.
 * The backup already runs MariaDB, Redis and the back-end services. Restore go-admin,
 * go-api and go-fly first; once they serve, go-upload, go-job and the /shell jobs.
 */
import { ActionError } from '../../actions/action.ts';
import { rewriteBindings } from '../../actions/config-bindings.ts';
import { installCrontab } from '../../actions/crontab.ts';
import { setDomainsStatus } from '../../actions/domains.ts';
import { setUpstreams } from '../../actions/nginx.ts';
import { promoteRedis } from '../../actions/redis.ts';
import { loadServiceUnits } from '../../actions/service-units.ts';
import { restartServices, startServices } from '../../actions/services.ts';
import { machine, machinesWithRole } from '../../fleet/model.ts';
import type { Fleet, Machine } from '../../fleet/schema.ts';
import { edgesHealthy, machineFailed, machineHealthy } from '../checks.ts';
import { databaseUp, databaseUpMode, type DatabaseUpMode } from '../database-up.ts';
import { fenceSingletons } from '../fence.ts';
import { installServicesFromArchive, servicesMissingOn } from '../install-from-archive.ts';
import { parallel, step, type Scenario, type ScenarioInput, type Step } from '../step.ts';
import { bindingsFor, domainsOf, edgesExcept, forwardedServices, localTarget, servicesByPriority, upstreamsAfter } from '../topology.ts';
import { businessAnswers } from '../verify-business.ts';

export const primaryDown: Scenario = {
  name: 'primary-down',
  describe: 'The primary application server failed (§4.3): the backup takes over its database, Redis, services and jobs',

  async resolve(input, ctx) {
    const heir = heirOf(ctx.fleet, input);
    const { later } = servicesByPriority(ctx.fleet);
    const missing = await servicesMissingOn(ctx, heir.name, later);
    return { ...input, heir: heir.name, database: await databaseUpMode(ctx, heir.name), installFromArchive: missing };
  },

  build(input, ctx) {
    const fleet = ctx.fleet;
    const failed = machine(fleet, input.failed);
    if (!failed.roles.includes('db-primary')) {
      throw new ActionError('precondition', `${failed.name} is not the primary (roles: ${failed.roles.join(', ')}); primary-down recovers the machine with role db-primary`);
    }
    // The heir chosen by resolve (journaled), so a resumed run keeps it.
    const heir = typeof input.heir === 'string' ? machine(fleet, input.heir) : heirOf(fleet, input);
    const edges = edgesExcept(fleet, [failed.name]);
    const { first, later } = servicesByPriority(fleet);
    const singletons = Object.entries(fleet.services).filter(([, s]) => s.singleton && s.roles.some((r) => failed.roles.includes(r))).map(([n]) => n);
    const target = localTarget(fleet, heir);
    const steps: Step[] = [
      parallel('Confirm the backup and the nginx machines are healthy, and the primary really failed', [
        machineHealthy(heir.name, 'backup app server', { services: false, data: true }),
        edgesHealthy(ctx, [failed.name]),
        machineFailed(failed.name, input.force),
      ]),
      databaseUp(heir.name, input.database as DatabaseUpMode),
    ];
    if (fleet.redis && heir.roles.includes('redis-replica')) steps.push(step('Promote the Redis replica on the backup', promoteRedis(heir.name)));
    steps.push(
      step("Take the primary's domains offline in the domain list", setDomainsStatus(heir.name, failed.address, 'offline')),
      step("Point the backup's services at its own MariaDB and Redis", rewriteBindings(heir.name, bindingsFor(fleet, first), target)),
      step(`Restart ${first.join(', ')} on the backup`, restartServices(heir.name, first)),
      parallel(
        'Remove the primary from the nginx forwarding lists',
        edges.map((e) => setUpstreams(e.name, upstreamsAfter(fleet, { failed: failed.name, heir: heir.name }))),
      ),
      businessAnswers({ domains: domainsOf(edges), services: forwardedServices(fleet, first) }),
      step('Fence the old primary before its singletons start elsewhere', fenceSingletons(failed.name, singletons)),
    );
    const toInstall = (input.installFromArchive as string[] | undefined) ?? [];
    if (toInstall.length > 0) {
      const stores = fleet.backups?.stores.filter((st) => st !== failed.name) ?? [];
      steps.push(step(`Install ${toInstall.join(', ')} on the backup from the primary's installation archive`, installServicesFromArchive(failed.name, heir.name, toInstall, stores)));
    }
    if (later.length > 0) {
      steps.push(
        step(`Point ${later.join(', ')} on the backup at its own MariaDB and Redis`, rewriteBindings(heir.name, bindingsFor(fleet, later), target)),
      );
      if (toInstall.length > 0) steps.push(step(`Load the units of ${toInstall.join(', ')} on the backup`, loadServiceUnits(heir.name, toInstall)));
      // Units loaded after the rewrite start with the right config; a service that was
      // already there is restarted, so that it reads the config just written.
      const present = later.filter((s) => !toInstall.includes(s));
      steps.push(
        step(`Start ${later.join(', ')} on the backup`, [
          ...(present.length ? [restartServices(heir.name, present)] : []),
          ...(toInstall.length ? [startServices(heir.name, toInstall)] : []),
        ]),
      );
    }
    if (fleet.crontabs['db-primary']) {
      steps.push(step("Align the backup's crontab with the primary's", installCrontab(heir.name, ['db-primary'])));
    }
    return steps;
  },

  followUps(input) {
    return [
      `${input.failed} is out of service and the fleet has no backup app server now: provision one from a spare ` +
        `(\`lifeboat recover backup-down --failed ${input.failed} --replacement <spare>\` once the fleet file names the new roles).`,
      `When ${input.failed} comes back, do not start its services: it holds a stale database and would run go-job twice.`,
      'Re-issue certificates for domains whose IP changed, if any clients reach the app servers directly.',
    ];
  },
};

/** Who takes over: the named replacement, else the replica, else another app server. */
function heirOf(fleet: Fleet, input: ScenarioInput): Machine {
  const name = input.replacement ?? machinesWithRole(fleet, 'db-replica')[0]?.name ?? machinesWithRole(fleet, 'app').find((m) => m.name !== input.failed)?.name;
  if (!name) throw new ActionError('precondition', 'no machine can take over: the fleet has no replica and no other app server');
  return machine(fleet, name);
}
