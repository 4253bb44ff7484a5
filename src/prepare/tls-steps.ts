/**
 * `prepare`'s part for TLS (fleet `tls`), before anything else reaches MariaDB or Redis
 * over the network: the fleet's CA, each machine's certificate, then MariaDB and Redis
 * serving TLS. Every later part (replication, the Redis replica, the endpoints) then links
 * the machines inside TLS.
 */
import { endpointHolders } from '../fleet/model.ts';
import type { Fleet } from '../fleet/schema.ts';
import { parallel, step, type Step } from '../recovery/step.ts';
import { mariadbTls } from './mariadb-tls.ts';
import type { PrepareOptions } from './prepare-options.ts';
import { redisTls } from './redis-tls.ts';
import { fleetCa, tlsFilesFor, tlsMachines } from './tls-certificates.ts';
import type { Topology } from './topology.ts';

export function tlsSteps(fleet: Fleet, t: Topology, options: PrepareOptions): Step[] {
  const machines = tlsMachines(fleet, endpointHolders(fleet));
  if (machines.length === 0) return [];
  const databases = fleet.database ? [t.dbPrimary, ...t.dbReplicas].filter((m) => m !== undefined) : [];
  const redises = fleet.redis ? [t.redisPrimary, ...t.redisReplicas].filter((m) => m !== undefined) : [];
  return [
    step(fleetCa(fleet)),
    parallel("Machines' TLS certificates from the fleet's CA", machines.map((m) => tlsFilesFor(fleet, m))),
    ...(databases.length ? [parallel('MariaDB serves TLS', databases.map((m) => mariadbTls(m, options)))] : []),
    ...(redises.length ? [parallel('Redis serves TLS', redises.map((m) => redisTls(m, options)))] : []),
  ];
}
