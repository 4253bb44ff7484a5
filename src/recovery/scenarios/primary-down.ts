/**
 * Seed runbook §4.3 — the primary application server fails.
 * The backup already runs MariaDB, Redis and the back-end services. Restore go-admin,
 * go-api and go-fly first; once they serve, go-upload, go-job and the /shell jobs. With
 * `--new-backup SPARE`, step 9 too: the spare is built into the new backup app server
 * (`standby-from-spare.ts`), so the fleet is not left without one.
 */
import { ActionError } from '../../actions/action.ts';
import { rewriteBindings } from '../../actions/config-bindings.ts';
import { installCrontab } from '../../actions/crontab.ts';
import { setDomainsStatus } from '../../actions/domains.ts';
import { setUpstreams } from '../../actions/nginx.ts';
import { promoteRedis } from '../../actions/redis.ts';
import { loadServiceUnits } from '../../actions/service-units.ts';
import { restartServices, startServices } from '../../actions/services.ts';
import { endpointHolders, machine, machinesWithRole, servicesOn, storesInService } from '../../fleet/model.ts';
import { bindingsRecorded, endpointsInUse, endpointTarget, liveAt, switchEndpoints } from '../../actions/endpoints.ts';
import { down, PRIMARY_ROLES, takeOver, withRoleChanges, type RoleChange } from '../../fleet/role-changes.ts';
import type { Fleet, Machine } from '../../fleet/schema.ts';
import { z } from 'zod';
import { allSettled } from '../../util/all-settled.ts';
import { edgesHealthy, machineFailed, machineHealthy, spareIsBare } from '../checks.ts';
import { spareChanges, standbyFromSpare } from '../standby-from-spare.ts';
import { asFleet } from '../as-fleet.ts';
import { databaseDetached, databaseUp, decideDatabaseUp, describeWindow } from '../database-up.ts';
import { fenceOldPrimary, fenceSingletons } from '../fence.ts';
import { installServicesFromArchive, servicesMissingOn } from '../install-from-archive.ts';
import { parallel, step, type Scenario, type ScenarioInput, type Step } from '../step.ts';
import { bindingsFor, domainsOf, edgesExcept, forwardedServices, localTarget, servicesByPriority, upstreamsAfter } from '../topology.ts';
import { businessAnswers } from '../verify-business.ts';
import { shippingStores } from '../../backup/binlogs.ts';
import { followNewPrimary } from '../../prepare/binlog-shipping.ts';

/**
 * What `resolve` decided from the fleet's state, journaled with the input. A resumed run
 * reads it back; a decision that is missing or malformed is an error, never a default.
 */
const decisionsSchema = z.object({
  heir: z.string().min(1),
  database: z.discriminatedUnion('mode', [
    z.object({
      mode: z.literal('promote'),
      acceptDataLoss: z.boolean(),
      window: z.object({ lastReceived: z.string(), receivingStoppedAt: z.string().nullable(), why: z.string() }).optional(),
      seen: z.object({
        receiving: z.enum(['running', 'connecting', 'stopped']),
        applying: z.enum(['running', 'stopped']),
        gtidReceived: z.string(),
        gtidApplied: z.string(),
        lastIoErrorAt: z.string().nullable(),
      }).optional(),
    }),
    z.object({ mode: z.literal('restore') }),
  ]),
  installFromArchive: z.array(z.string()),
  /**
   * Machines whose services reach the database through stable endpoints that answered
   * (fleet `endpoints`): switched at runtime, their services not restarted. Without the
   * heir among them, its services' configs are rewritten and they are restarted.
   */
  switchEndpoints: z.array(z.string()).default([]),
});
type Decisions = z.infer<typeof decisionsSchema>;

function decisionsOf(input: ScenarioInput): Decisions {
  const parsed = decisionsSchema.safeParse(input);
  if (!parsed.success) {
    throw new ActionError('precondition', `primary-down has no complete decisions for this run (heir, database, installFromArchive): ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

export const primaryDown: Scenario = {
  name: 'primary-down',
  describe: 'The primary application server failed (§4.3): the backup takes over its database, Redis, services and jobs',

  async resolve(input, ctx) {
    const heir = heirOf(ctx.fleet, input);
    const { first, later } = servicesByPriority(ctx.fleet);
    const holders = endpointHolders(ctx.fleet).filter((m) => m.name !== input.failed);
    // The heir's first services must run already to be switched rather than restarted.
    const firstOn = (m: Machine) => (m.name === heir.name ? first.filter((s) => servicesOn(ctx.fleet, m).some(([n]) => n === s)) : []);
    // Read side by side, and every reading finishes before a refusal is reported: none may
    // still be using the machines' connections once the command has closed them.
    const [database, installFromArchive, inUse] = await allSettled([
      decideDatabaseUp(ctx, heir.name, { acceptDataLoss: input.acceptDataLoss ?? false }),
      servicesMissingOn(ctx, heir.name, later),
      Promise.all(holders.map(async (m) => ({ machine: m.name, ...(await endpointsInUse(ctx, m.name, firstOn(m))) }))),
    ]);
    for (const u of inUse) if (!u.inUse) ctx.log(`${u.machine}: not switching its stable endpoints (${u.why}); its services' configs are rewritten instead`);
    const decisions: Decisions = {
      heir: heir.name,
      database,
      installFromArchive,
      switchEndpoints: inUse.filter((u) => u.inUse).map((u) => u.machine),
    };
    if (decisions.database.mode === 'promote' && decisions.database.window) {
      ctx.log(`--accept-data-loss: ${describeWindow(heir.name, decisions.database.window)}; recorded in this run's journal`);
    }
    return { ...input, ...decisions };
  },

  build(input, ctx) {
    const fleet = ctx.fleet;
    const failed = machine(fleet, input.failed);
    if (!failed.roles.includes('db-primary')) {
      throw new ActionError('precondition', `${failed.name} is not the primary (roles: ${failed.roles.join(', ')}); primary-down recovers the machine with role db-primary`);
    }
    // The decisions taken by resolve (journaled), so a resumed run keeps them.
    const decided = decisionsOf(input);
    const heir = machine(fleet, decided.heir);
    const newBackup = newBackupOf(fleet, input, heir);
    const afterFailover = withRoleChanges(fleet, failoverRoles(fleet, failed, heir), { run: 'this run', since: new Date(0).toISOString() });
    const edges = edgesExcept(fleet, [failed.name]);
    const { first, later } = servicesByPriority(fleet);
    const singletons = Object.entries(fleet.services).filter(([, s]) => s.singleton && s.roles.some((r) => failed.roles.includes(r))).map(([n]) => n);
    // Redis moves only where the run promotes the replica.
    const redisMoved = Boolean(fleet.redis) && heir.roles.includes('redis-replica');
    const viaEndpoints = decided.switchEndpoints.includes(heir.name);
    // Through its endpoints the heir's services already reach whatever the endpoints forward to.
    const target = viaEndpoints ? endpointTarget(fleet) : localTarget(fleet, heir);
    const live = liveAt(fleet, heir, redisMoved ? heir : machinesWithRole(fleet, 'redis')[0]);
    const steps: Step[] = [
      parallel(`Confirm the backup and the nginx machines are healthy, and the primary really failed${newBackup ? `; ${newBackup} is bare` : ''}`, [
        machineHealthy(heir.name, 'backup app server', { services: false, data: true }),
        edgesHealthy(ctx, [failed.name]),
        machineFailed(failed.name, input.force),
        // Checked first: a spare that is not bare must stop the run before anything changes.
        ...(newBackup ? [spareIsBare(newBackup)] : []),
      ]),
      // Before the new primary takes a write: the old one must not take any more.
      step('Fence the old primary before the backup takes writes', fenceOldPrimary(failed.name, heir.name)),
      databaseUp(heir.name, decided.database),
    ];
    if (redisMoved) steps.push(step('Promote the Redis replica on the backup', promoteRedis(heir.name)));
    const switches = decided.switchEndpoints.map((m) => switchEndpoints(m, live));
    const switchTitle = "Switch the stable endpoints to the backup's MariaDB and Redis (no service restarts)";
    // One machine: a plain step (a resumed run re-verifies it like any other).
    if (switches.length === 1) steps.push(step(switchTitle, switches[0]!));
    if (switches.length > 1) steps.push(parallel(switchTitle, switches));
    steps.push(step("Take the primary's domains offline in the domain list", setDomainsStatus(heir.name, failed.address, 'offline')));
    if (!viaEndpoints) {
      steps.push(
        step("Point the backup's services at its own MariaDB and Redis", rewriteBindings(heir.name, bindingsFor(fleet, first), target)),
        step(`Restart ${first.join(', ')} on the backup`, restartServices(heir.name, first)),
      );
    }
    steps.push(
      parallel(
        'Remove the primary from the nginx forwarding lists',
        edges.map((e) => setUpstreams(e.name, upstreamsAfter(fleet, { failed: failed.name, heir: heir.name }))),
      ),
      businessAnswers({ fleet, domains: domainsOf(edges), services: forwardedServices(fleet, first) }),
      ...databaseDetached(heir.name, decided.database),
    );
    if (singletons.length > 0) {
      steps.push(step('Make sure the old primary cannot run its singletons before they start elsewhere',
        fenceSingletons(failed.name, singletons, (input.confirmedFenced ?? []).includes(failed.name))));
    }
    const toInstall = decided.installFromArchive;
    if (toInstall.length > 0) {
      const stores = storesInService(fleet).filter((st) => st !== failed.name);
      steps.push(step(`Install ${toInstall.join(', ')} on the backup from the primary's installation archive`, installServicesFromArchive(failed.name, heir.name, toInstall, stores)));
    }
    if (later.length > 0) {
      steps.push(
        step(`Point ${later.join(', ')} on the backup at ${viaEndpoints ? 'its stable endpoints' : 'its own MariaDB and Redis'}`, rewriteBindings(heir.name, bindingsFor(fleet, later), target)),
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
    // Every service on the heir now runs on its bindings (the first ones were on the endpoints
    // already, the later ones were just pointed there and started): recorded for the fleet as
    // it is now, so that a later prepare (and --new-backup's below) restarts none of them.
    if (viaEndpoints) steps.push(...asFleet(afterFailover, [step(bindingsRecorded(heir.name))]));
    if (fleet.crontabs['db-primary']) {
      steps.push(step("Align the backup's crontab with the primary's", installCrontab(heir.name, ['db-primary'])));
    }
    // The stores' copy of the binary log follows the new primary (backups extend from it).
    const shipping = shippingStores(fleet).filter((m) => m.name !== failed.name && m.name !== heir.name);
    if (shipping.length) steps.push(parallel(`The stores ship ${heir.name}'s binary log from now on`, shipping.map((m) => followNewPrimary(m, heir))));
    // §4.3 step 9: a new backup at once, built in the fleet as the failover left it.
    if (newBackup) steps.push(...standbyFromSpare(ctx, afterFailover, { primary: machine(afterFailover, heir.name), model: heir, spare: newBackup, failed: failed.name }));
    return steps;
  },

  rolesAfter(input, fleet) {
    const failed = machine(fleet, input.failed);
    const heir = machine(fleet, decisionsOf(input).heir);
    const newBackup = newBackupOf(fleet, input, heir);
    // The new backup takes the part the heir had before it took over.
    return [...failoverRoles(fleet, failed, heir), ...(newBackup ? spareChanges(fleet, heir, machine(fleet, newBackup), failed.name) : [])];
  },

  followUps(input) {
    const window = (input.database as Decisions['database'] | undefined)?.mode === 'promote' ? (input.database as { window?: Parameters<typeof describeWindow>[1] }).window : undefined;
    return [
      ...(window
        ? [`Data-loss window accepted: ${describeWindow(String(input.heir), window)}. When ${input.failed} returns, extract its transactions after ${window.lastReceived || 'the last received GTID'} (mariadb-binlog on its binlogs) before it rejoins.`]
        : []),
      input.newBackup
        ? `${input.failed} is out of service (the fleet file now says so, and names ${String(input.heir)} the primary); ${String(input.newBackup)} is the backup app server now (and a backup store in ${input.failed}'s place, where it was one).`
        : `${input.failed} is out of service (the fleet file now says so, and names ${String(input.heir)} the primary) and the fleet has no backup app server: provision one from a spare (\`--new-backup SPARE\` builds one as part of primary-down).`,
      `When ${input.failed} comes back, do not start its services: it holds a stale database and would run its singletons twice.`,
      'Re-issue certificates for domains whose IP changed, if any clients reach the app servers directly.',
    ];
  },
};

/** The heir takes the primary's roles and gives up its replica roles; the old primary holds nothing. */
function failoverRoles(fleet: Fleet, failed: Machine, heir: Machine): RoleChange[] {
  // Redis moves only where the run promoted the replica.
  const redisMoved = Boolean(fleet.redis) && heir.roles.includes('redis-replica');
  const roles = PRIMARY_ROLES.filter((r) => r !== 'redis' || redisMoved);
  return [takeOver(failed, heir, roles, ['db-replica', ...(redisMoved ? ['redis-replica' as const] : [])]), down(failed.name)];
}

/** `--new-backup SPARE`: the spare built into the backup once the failover is done (§4.3 step 9). */
function newBackupOf(fleet: Fleet, input: ScenarioInput, heir: Machine): string | undefined {
  const name = input.newBackup;
  if (name === undefined) return undefined;
  if (typeof name !== 'string' || !name) throw new ActionError('precondition', '--new-backup: expected the name of a spare');
  const spare = machine(fleet, name);
  if (spare.name === input.failed || spare.name === heir.name) throw new ActionError('precondition', `--new-backup ${spare.name} is the ${spare.name === heir.name ? 'machine taking over' : 'failed primary'}: name a spare`);
  if (!heir.roles.includes('app')) throw new ActionError('precondition', `--new-backup: ${heir.name} is not an app server, so there is no backup's part for ${spare.name} to take`);
  return spare.name;
}

/** Who takes over: the named replacement, else the replica, else another app server. */
function heirOf(fleet: Fleet, input: ScenarioInput): Machine {
  const name = input.replacement ?? machinesWithRole(fleet, 'db-replica')[0]?.name ?? machinesWithRole(fleet, 'app').find((m) => m.name !== input.failed)?.name;
  if (!name) throw new ActionError('precondition', 'no machine can take over: the fleet has no replica and no other app server');
  return machine(fleet, name);
}
