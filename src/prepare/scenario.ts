/**
 * `lifeboat prepare` as a runbook: the steps that bring a fleet to its prepared state —
 * database replication with semi-sync, a Redis replica, upload files following the primary,
 * installation files archived on the stores. Every step is idempotent and plans to change
 * nothing when its part is already in place, so a second run says "nothing to do".
 */
import type { ActionContext } from '../actions/action.ts';
import { check, parallel, step, type ActionStep, type Scenario, type ScenarioInput, type Step } from '../recovery/step.ts';
import { mariadbReady } from './mariadb-readiness.ts';
import { mariadbSettings } from './mariadb-settings.ts';
import { prepareOptions, type PrepareOptions } from './prepare-options.ts';
import { replicaOf } from './replica-seed.ts';
import { applicationAccount, replicationAccount } from './replication-account.ts';
import { replicationHealthy } from './replication-health.ts';
import { redisReplicaOf } from './redis-replica.ts';
import { uploadSyncSteps } from './upload-sync.ts';
import { archiveInstallation, archivedMachines, installSet, storesFor } from './install-archive.ts';
import { postCondition } from './post-condition.ts';
import { topology } from './topology.ts';
import { endpointSteps } from './endpoints.ts';
import { tlsSteps } from './tls-steps.ts';
import { binlogShippingSteps } from './binlog-shipping.ts';

export interface PrepareInput extends ScenarioInput {
  /** Replace a replica's data that does not come from the primary (or a broken replica). */
  reseed?: boolean;
  /** Only these parts (default: all). */
  parts?: PreparePart[];
}

export const PREPARE_PARTS = ['tls', 'mariadb', 'binlogs', 'redis', 'endpoints', 'uploads', 'install'] as const;
export type PreparePart = (typeof PREPARE_PARTS)[number];

/** Highest replica lag (seconds) the final check accepts. */
const MAX_LAG_S = 5;

/**
 * Parts that change different things (the stores' shipping loops, the Redis replicas, the app
 * servers' endpoints) and need only the replication above: one group, so that prepare waits
 * for the slowest of them instead of their sum (about 10 s of 28 on the example fleet). Their
 * checks run first. A part that is one group, or one step, joins; a part of several steps in
 * a row cannot (a group runs its members at once) and is refused here, not raced.
 */
function sideBySide(title: string, parts: readonly (readonly Step[])[]): Step[] {
  const checks: Step[] = [];
  const members: ActionStep[] = [];
  const groups: Step[] = [];
  for (const part of parts) {
    const acting = part.filter((s) => s.mutating);
    if (acting.length > 1) throw new TypeError(`prepare: a part of ${acting.length} steps in a row cannot go side by side (${acting.map((s) => s.title).join('; ')})`);
    checks.push(...part.filter((s) => !s.mutating));
    for (const s of acting) {
      groups.push(s);
      members.push(...(s.kind === 'parallel' ? s.steps : [s]));
    }
  }
  // One part alone keeps its own group and title.
  return groups.length <= 1 ? [...checks, ...groups] : [...checks, parallel(title, members)];
}

export function prepareScenario(overrides: Partial<PrepareOptions> = {}): Scenario<PrepareInput> {
  const options = prepareOptions(overrides);
  return {
    name: 'prepare',
    describe: 'Bring the fleet to its prepared state: TLS between machines, replication, binlogs shipped to the stores, Redis replica, upload sync, installation archives',
    build(input: PrepareInput, ctx: ActionContext): Step[] {
      const parts = new Set(input.parts ?? PREPARE_PARTS);
      const t = topology(ctx.fleet);
      const steps: Step[] = [];
      const tlsInRun = parts.has('tls') && ctx.fleet.tls.enabled;
      if (tlsInRun) steps.push(...tlsSteps(ctx.fleet, t, options));
      if (parts.has('mariadb') && t.dbPrimary && t.dbReplicas.length > 0) {
        const primary = t.dbPrimary;
        const replicas = t.dbReplicas;
        steps.push(
          check('MariaDB servers are ready for GTID replication', mariadbReady(primary, replicas)),
          parallel('MariaDB accounts for replication, and for the services on the replicas', [
            ...[primary, ...replicas].map((m) => replicationAccount(m)),
            ...replicas.map((r) => applicationAccount(r)),
          ]),
          parallel('Replicas acknowledge semi-sync and refuse writes', replicas.map((r) => mariadbSettings(r, 'replica', options))),
          ...replicas.map((r) => step(replicaOf(primary, r, options, { reseed: input.reseed === true }))),
          step(`Turn on semi-sync on ${primary.name} and see the replicas acknowledge`, [
            mariadbSettings(primary, 'primary', options),
            postCondition('Replication runs and the primary waits for the replica', replicationHealthy(primary, replicas, MAX_LAG_S, options.settleMs)),
          ]),
        );
      }
      const redisPrimary = t.redisPrimary;
      steps.push(...sideBySide(`Binary log to the stores, Redis replicas, stable endpoints on the app servers${parts.has('uploads') && t.uploads.length ? ', upload sync' : ''}`, [
        parts.has('binlogs') ? binlogShippingSteps(ctx.fleet, t.dbPrimary, options) : [],
        parts.has('redis') && redisPrimary && t.redisReplicas.length > 0
          ? [parallel('Redis replicas follow the primary', t.redisReplicas.map((r) => redisReplicaOf(redisPrimary, r, options)))]
          : [],
        parts.has('endpoints') ? endpointSteps(ctx.fleet, t, options, tlsInRun) : [],
        // The syncs need only SSH between their machines: nothing of the parts above.
        parts.has('uploads') ? uploadSyncSteps(t.uploads, options) : [],
      ]));
      if (parts.has('install') && ctx.fleet.backups) {
        const fleet = ctx.fleet;
        const archived = archivedMachines(fleet).filter((m) => storesFor(fleet, m, options).length > 0);
        if (archived.length) {
          steps.push(parallel('Installation files archived on the backup stores', archived.map((m) => archiveInstallation(fleet, installSet(fleet, m, options), options))));
        }
      }
      return steps;
    },
    followUps: () => [],
  };
}
