/**
 * One look at the whole fleet: for each machine, is it reachable over SSH, is each of its
 * declared services running and answering its health check, and do MariaDB and Redis answer
 * where the machine's roles say they should. Reads only; changes nothing.
 */
import { driverFor } from '../actions/drivers/index.ts';
import { runProbe } from '../actions/machine-probe.ts';
import { healthProbe } from '../actions/service-health.ts';
import { servicesOn } from '../fleet/model.ts';
import type { Fleet, Machine } from '../fleet/schema.ts';
import type { SecretResolver } from '../fleet/secrets.ts';
import { fanOut } from '../remote/fanout.ts';
import type { Remote } from '../remote/remote.ts';
import { checkMariadb, checkRedis, type DataCheck } from './data-checks.ts';
import { uploadSyncChecks, type UploadSyncCheck } from '../prepare/upload-sync-status.ts';
import { endpointsCheck, type EndpointsCheck } from './endpoints-check.ts';

export interface ServiceStatus {
  name: string;
  state: 'running' | 'stopped' | 'unknown';
  healthy: boolean;
  detail: string;
}

export interface MachineStatus {
  name: string;
  address: string;
  roles: string[];
  reachable: boolean;
  /** Round trip of a trivial command over SSH, connection set-up included. */
  latencyMs?: number;
  error?: string;
  services: ServiceStatus[];
  mariadb?: DataCheck;
  redis?: DataCheck;
  /**
   * Upload files this machine sends to the standby, with their lag. Not part of `healthy`:
   * it says how ready the standby is, not whether this machine works.
   */
  uploadSync?: UploadSyncCheck[];
  /**
   * Where its stable endpoints forward, and whether its services use them (fleet
   * `endpoints`). Not part of `healthy`, like the upload sync: a fleet not prepared yet has none.
   */
  endpoints?: EndpointsCheck;
  /** Out of service since a recovery (fleet file `down`): not asked, not counted as unhealthy. */
  down?: { since: string; run: string; roles: string[] };
  healthy: boolean;
}

export interface FleetStatus {
  fleet: string;
  checkedAt: string;
  /** Every machine healthy and no acknowledged write at risk. */
  healthy: boolean;
  /** Where acknowledged writes are at risk (replication fell back or stopped), per machine. */
  risks: Array<{ machine: string; risk: string }>;
  machines: MachineStatus[];
}

export interface StatusOptions {
  remote(machine: string): Remote;
  secret: SecretResolver;
  /** Machines checked at once. */
  concurrency?: number;
}

export async function fleetStatus(fleet: Fleet, options: StatusOptions): Promise<FleetStatus> {
  // A machine a recovery took out of service is reported as such, not probed: it holds no
  // role, and its absence is the fleet as it should be now.
  const results = await fanOut(fleet.machines, options.concurrency ?? 16, async (m) =>
    m.down ? { ...base(m), down: { ...m.down, roles: [...m.down.roles] }, healthy: true } : machineStatus(fleet, m, options));
  const machines = results.map((r) =>
    r.ok
      ? r.value
      : { ...base(r.item), reachable: false, error: errorText(r.error), healthy: false },
  );
  const risks = machines.flatMap((m) => (m.mariadb?.risk ? [{ machine: m.name, risk: m.mariadb.risk }] : []));
  return { fleet: fleet.name, checkedAt: new Date().toISOString(), healthy: machines.every((m) => m.healthy) && risks.length === 0, risks, machines };
}

function base(m: Machine): MachineStatus {
  return { name: m.name, address: m.address, roles: [...m.roles], reachable: false, services: [], healthy: false };
}

/** What to look at; a check that only needs reachability and data skips the services. */
export interface StatusScope {
  services: boolean;
  data: boolean;
}

export async function machineStatus(fleet: Fleet, m: Machine, options: StatusOptions, scope: StatusScope = { services: true, data: true }): Promise<MachineStatus> {
  const status = base(m);
  const remote = options.remote(m.name);
  // Data services are checked from here over the network, as the app servers reach them,
  // at the same time as SSH: a dead machine costs one timeout, not the sum of three.
  const wantsDb = scope.data && fleet.database && (m.roles.includes('db-primary') || m.roles.includes('db-replica'));
  const wantsRedis = scope.data && fleet.redis && (m.roles.includes('redis') || m.roles.includes('redis-replica'));
  const data = Promise.all([
    wantsDb ? checkMariadb(fleet, m, options.secret) : undefined,
    wantsRedis ? checkRedis(fleet, m, options.secret) : undefined,
  ]);
  const started = performance.now();
  try {
    const result = await remote.run('true', { timeoutMs: 10_000 });
    status.reachable = result.code === 0;
    status.latencyMs = Math.round(performance.now() - started);
  } catch (error) {
    status.error = errorText(error);
  }
  if (status.reachable && scope.services) {
    status.services = await Promise.all(servicesOn(fleet, m).map(([name, service]) => serviceStatus(remote, name, service)));
  }
  if (status.reachable && scope.data) {
    // The endpoints only in a whole look (`status`), not in a recovery's health checks, whose
    // time users wait for.
    const [syncs, endpoints] = await Promise.all([uploadSyncChecks(fleet, m, remote), scope.services ? endpointsCheck(fleet, m, options) : undefined]);
    if (syncs.length) status.uploadSync = syncs;
    if (endpoints) status.endpoints = endpoints;
  }
  const [mariadb, redis] = await data;
  if (mariadb) status.mariadb = mariadb;
  if (redis) status.redis = redis;
  status.healthy =
    status.reachable && status.services.every((s) => s.healthy) && (mariadb?.ok ?? true) && (redis?.ok ?? true);
  return status;
}

async function serviceStatus(remote: Remote, name: string, service: Fleet['services'][string]): Promise<ServiceStatus> {
  let state: ServiceStatus['state'] = 'unknown';
  try {
    state = await driverFor(name, service.driver, { timeoutMs: 5000 }).status(remote);
  } catch (error) {
    return { name, state, healthy: false, detail: errorText(error) };
  }
  if (state !== 'running') return { name, state, healthy: false, detail: `not running (${service.driver.type})` };
  if (!service.health) return { name, state, healthy: true, detail: 'running (no health check declared)' };
  const probe = await runProbe(remote, healthProbe(service.health));
  return { name, state, healthy: probe.ok, detail: probe.detail };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
