/**
 * An old primary came back (seed §4.3 leaves it to a person: "when the old primary returns,
 * do not start its services"). It holds a stale database, perhaps with writes of its own that
 * never reached the replica, and its services would run the singletons a second time. The
 * runbook, in order:
 * 1. it is fenced at once: MariaDB read-only, every service of what it was stopped, its Redis
 *    a replica of the live one, its crontab emptied (its cron jobs are the primary's);
 * 2. what only it holds is read (GTID state against the live primary's, after the fence: it
 *    takes nothing more) and extracted to the operator's machine, checked whole;
 * 3. its MariaDB becomes a replica of the live primary: pointed at it when its history is a
 *    prefix, else reseeded from it (only once step 2 holds its own transactions);
 * 4. it becomes the standby: its app services started on the live primary's data, back in the
 *    nginx forwarding lists and the domain list, the standby's crontab, and everything
 *    `prepare` gives a standby (semi-sync, Redis replica, upload files, endpoints, archive).
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ActionError } from '../../actions/action.ts';
import { rewriteBindings } from '../../actions/config-bindings.ts';
import { installCrontab } from '../../actions/crontab.ts';
import { extractOwnTransactions } from '../../actions/db-divergence.ts';
import { setDomainsStatus } from '../../actions/domains.ts';
import { setUpstreams } from '../../actions/nginx.ts';
import { startServices } from '../../actions/services.ts';
import { machine, machinesWithRole, servicesOn } from '../../fleet/model.ts';
import { PRIMARY_ROLES, withRoleChanges, type RoleChange } from '../../fleet/role-changes.ts';
import type { Fleet, Machine, Role } from '../../fleet/schema.ts';
import { prepareOptions } from '../../prepare/prepare-options.ts';
import { prepareScenario } from '../../prepare/scenario.ts';
import { retireSyncLoops } from '../../prepare/upload-sync.ts';
import { asFleet } from '../as-fleet.ts';
import { edgesHealthy, machineHealthy } from '../checks.ts';
import { fenceOldPrimary } from '../fence.ts';
import { rejoinDatabase } from '../rejoin-database.ts';
import { check, parallel, step, type Scenario, type ScenarioInput, type Step } from '../step.ts';
import { bindingsFor, domainsOf, edgesExcept, forwardedServices, localTarget, upstreamsAfter } from '../topology.ts';
import { businessAnswers } from '../verify-business.ts';

/** Where the extract goes on the operator's machine, unless the input names a folder. */
export const DEFAULT_EXTRACT_DIR = join(homedir(), '.lifeboat', 'rejoin');

interface RejoinInput extends ScenarioInput {
  /** The extract's path, fixed when the run starts (journaled: a resumed run finds it again). */
  extractFile?: string;
  /** Folder for the extract (the CLI's --extract-to). */
  extractDir?: string;
}

/** What the returned machine holds from now on: the standby's roles, from what it was. */
export function standbyRoles(fleet: Fleet, old: Machine): Role[] {
  const was = old.down?.roles ?? old.roles;
  const kept = was.filter((r) => !PRIMARY_ROLES.includes(r) && r !== 'spare');
  return [...new Set<Role>([
    ...(was.includes('app') ? ['app' as const] : []),
    ...kept,
    ...(fleet.database && was.some((r) => r === 'db-primary' || r === 'db-replica') ? ['db-replica' as const] : []),
    ...(fleet.redis && was.some((r) => r === 'redis' || r === 'redis-replica') ? ['redis-replica' as const] : []),
  ])];
}

function rolesAfter(fleet: Fleet, old: Machine): RoleChange[] {
  return [{ machine: old.name, roles: standbyRoles(fleet, old) }];
}

export const rejoin: Scenario<RejoinInput> = {
  name: 'rejoin',
  describe: 'An old primary came back: fence it, extract the transactions only it holds, make it the replica and standby of the live primary',

  async resolve(input) {
    if (input.extractFile) return input;
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
    return { ...input, extractFile: join(input.extractDir ?? DEFAULT_EXTRACT_DIR, `${input.failed}-${stamp}.sql`) };
  },

  build(input, ctx) {
    const fleet = ctx.fleet;
    const old = machine(fleet, input.failed);
    if (!old.down) throw new ActionError('precondition', `${old.name} is in service (roles: ${old.roles.join(', ') || 'none'}): rejoin brings back a machine the fleet file marks out of service`);
    const live = machinesWithRole(fleet, 'db-primary')[0];
    if (!live) throw new ActionError('precondition', 'the fleet has no db-primary machine to rejoin');
    if (live.name === old.name) throw new ActionError('precondition', `${old.name} is the primary`);
    const was = old.down.roles;
    // Built and tested for an app server (the old primary, or a backup) coming back; an edge
    // or a store that returns is not what this runbook knows how to bring back.
    if (!was.some((r) => r === 'app' || r === 'db-primary' || r === 'db-replica')) {
      throw new ActionError('precondition', `${old.name} was ${was.join(', ') || 'nothing'}: rejoin brings back an app server (an old primary or backup); provision an edge or a store again instead`);
    }
    const hadData = Boolean(fleet.database) && was.some((r) => r === 'db-primary' || r === 'db-replica');
    const file = input.extractFile ?? join(DEFAULT_EXTRACT_DIR, `${old.name}.sql`);
    const after = withRoleChanges(fleet, rolesAfter(fleet, old), { run: 'this run', since: new Date(0).toISOString() });
    const back = machine(after, old.name);
    const services = servicesOn(after, back).map(([name]) => name);
    const edges = edgesExcept(fleet, [old.name]);
    const steps: Step[] = [
      parallel(`Confirm the primary is healthy and ${old.name} answers again`, [
        machineHealthy(live.name, 'primary app server'),
        check(`${old.name} answers again`, {
          machines: [old.name],
          describe: `${old.name} answers over SSH`,
          async verify(c) {
            const r = await c.remote(old.name).run('true', { timeoutMs: 10_000 }).catch((error: Error) => ({ code: -1, stderr: error.message }));
            if (r.code !== 0) throw new ActionError('precondition', `${old.name} does not answer: ${'stderr' in r ? r.stderr : ''}`.trim());
          },
        }),
        ...(edges.length ? [edgesHealthy(ctx, [old.name])] : []),
      ]),
      step(`Fence ${old.name}: nothing of it serves or runs a singleton`, [
        fenceOldPrimary(old.name, machinesWithRole(fleet, 'redis')[0]?.name, { mustReach: true }),
        installCrontab(old.name, []),
        retireSyncLoops(old.name, prepareOptions()),
      ]),
    ];
    if (hadData) {
      // On the fleet where it is the replica again: a machine out of service serves no data,
      // so the links to it would not be held to the TLS its certificate gives (its replication
      // account on the primary logs in only inside TLS).
      steps.push(...asFleet(after, [
        step(extractOwnTransactions(old.name, live.name, file)),
        step(rejoinDatabase(old.name, live.name, file, input.acceptDataLoss === true)),
      ]));
    }
    if (services.length) {
      steps.push(
        step(`Point ${services.join(', ')} on ${old.name} at the primary's MariaDB and Redis`, rewriteBindings(old.name, bindingsFor(fleet, services), localTarget(fleet, live))),
        step(`Start only ${services.join(', ')} on ${old.name}`, startServices(old.name, services)),
      );
    }
    const cronRoles = back.roles.filter((r) => fleet.crontabs[r]);
    if (cronRoles.length) steps.push(step(`Install the standby's crontab on ${old.name}`, installCrontab(old.name, cronRoles)));
    if (edges.length && forwardedServices(fleet, services).length) {
      steps.push(parallel(`Add ${old.name} to the nginx forwarding lists`, edges.map((e) => setUpstreams(e.name, upstreamsAfter(after, { failed: '', heir: live.name })))));
    }
    if (fleet.database?.domainTable && old.domains.length) {
      steps.push(step(`Put ${old.name}'s domains back on the domain list`, setDomainsStatus(live.name, old.address, 'online')));
    }
    // Everything prepare gives a standby, for the fleet where it is the standby again.
    steps.push(...asFleet(after, prepareScenario().build({ failed: '' }, { ...ctx, fleet: after }) as Step[]));
    if (edges.length && forwardedServices(fleet, services).length) {
      steps.push(businessAnswers({ fleet: after, domains: domainsOf(edges), services: forwardedServices(fleet, services) }));
    }
    return steps;
  },

  rolesAfter(input, fleet) {
    return rolesAfter(fleet, machine(fleet, input.failed));
  },

  followUps(input) {
    return [
      `If the run extracted transactions only ${input.failed} held (${input.extractFile ?? 'see the run'}), a person decides what of them belongs on the primary: the file is mariadb-binlog's output, each row also written out as SQL in its ### comments.`,
    ];
  },
};
