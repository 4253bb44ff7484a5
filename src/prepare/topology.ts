/**
 * Who plays which part in the prepared state, read from the validated fleet: the MariaDB
 * primary and its replicas, the Redis primary and its replicas, where upload files come
 * from and go to, and where installation archives are kept. Pure; no I/O.
 */
import { machinesWithRole, sshSettingsFor, storesInService } from '../fleet/model.ts';
import type { Fleet, Machine, Service } from '../fleet/schema.ts';
import { ActionError } from '../actions/action.ts';

export interface UploadSync {
  /** The machine go-upload runs on (its files live on that local disk). */
  source: Machine;
  /** The standby that takes go-upload over: it must already hold the files. */
  target: Machine;
  service: string;
  spec: Service;
  dataDirs: string[];
}

export interface Topology {
  dbPrimary?: Machine;
  dbReplicas: Machine[];
  redisPrimary?: Machine;
  redisReplicas: Machine[];
  uploads: UploadSync[];
  /** Machines that receive installation archives (fleet `backups.stores`). */
  stores: Machine[];
}

function single(fleet: Fleet, role: 'db-primary' | 'redis'): Machine | undefined {
  const found = machinesWithRole(fleet, role);
  if (found.length > 1) {
    throw new ActionError('precondition', `the fleet names ${found.length} machines with role ${role} (${found.map((m) => m.name).join(', ')}); prepare needs exactly one`);
  }
  return found[0];
}

/**
 * The standby for upload files is the machine that is promoted when the primary dies: the
 * database replica (seed §4.3), else the Redis replica.
 */
function standby(fleet: Fleet, source: Machine): Machine | undefined {
  const candidates = [...machinesWithRole(fleet, 'db-replica'), ...machinesWithRole(fleet, 'redis-replica')];
  return candidates.find((m) => m.name !== source.name);
}

export function topology(fleet: Fleet): Topology {
  const dbPrimary = fleet.database ? single(fleet, 'db-primary') : undefined;
  const redisPrimary = fleet.redis ? single(fleet, 'redis') : undefined;
  const uploads: UploadSync[] = [];
  for (const [service, spec] of Object.entries(fleet.services)) {
    if (spec.dataDirs.length === 0) continue;
    for (const source of fleet.machines.filter((m) => spec.roles.some((r) => m.roles.includes(r)))) {
      const target = standby(fleet, source);
      if (target) uploads.push({ source, target, service, spec, dataDirs: [...spec.dataDirs] });
    }
  }
  const storeNames = storesInService(fleet);
  return {
    ...(dbPrimary ? { dbPrimary } : {}),
    dbReplicas: fleet.database ? machinesWithRole(fleet, 'db-replica').filter((m) => m.name !== dbPrimary?.name) : [],
    ...(redisPrimary ? { redisPrimary } : {}),
    redisReplicas: fleet.redis ? machinesWithRole(fleet, 'redis-replica').filter((m) => m.name !== redisPrimary?.name) : [],
    uploads,
    stores: fleet.machines.filter((m) => storeNames.includes(m.name)),
  };
}

export function sshPortOf(fleet: Fleet, m: Machine): number {
  return sshSettingsFor(fleet, m).port;
}

export function sshUserOf(fleet: Fleet, m: Machine): string {
  return sshSettingsFor(fleet, m).user;
}
