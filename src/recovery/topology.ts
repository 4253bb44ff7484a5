/**
 * Who serves what after a machine is gone: pure functions over the fleet model that the
 * scenarios use to compute new upstreams, config targets and the domains to check.
 */
import type { BindingTarget } from '../actions/config-bindings.ts';
import type { Upstreams } from '../actions/nginx.ts';
import { machine, machinesRunning } from '../fleet/model.ts';
import type { Binding, Fleet, Machine } from '../fleet/schema.ts';

export interface Takeover {
  /** The machine that is gone. */
  failed: string;
  /** Who runs the failed machine's singletons (go-upload, go-job) from now on, if anyone. */
  heir?: string;
  /** Machines that do not exist yet in the fleet file's roles but serve every app service now. */
  extraServers?: readonly string[];
  /** Other machines gone at the same time (both app servers, a store). */
  lost?: readonly string[];
}

/** Every nginx upstream without the failed machine; singletons follow the heir. */
export function upstreamsAfter(fleet: Fleet, t: Takeover): Upstreams {
  const out: Record<string, Array<{ host: string; port: number; backup?: boolean }>> = {};
  for (const { name, service } of fleet.nginx?.upstreams ?? []) {
    const spec = fleet.services[service];
    if (!spec?.port) continue;
    const gone = new Set([t.failed, ...(t.lost ?? [])]);
    const runners = machinesRunning(fleet, service).map((m) => m.name).filter((m) => !gone.has(m));
    // A singleton moves only to the heir; new machines never get a second copy of it.
    let servers = spec.singleton ? runners : [...runners, ...(t.extraServers ?? [])];
    if (servers.length === 0 && t.heir) servers = [t.heir];
    servers = [...new Set(servers)];
    // The heir first: it holds the database now, so it answers fastest and without a hop.
    if (t.heir && servers.includes(t.heir)) servers = [t.heir, ...servers.filter((s) => s !== t.heir)];
    if (servers.length === 0) continue;
    out[name] = servers.map((s) => ({ host: machine(fleet, s).address, port: spec.port! }));
  }
  return out;
}

/** The config bindings of `services` (fleet order). */
export function bindingsFor(fleet: Fleet, services: readonly string[]): Binding[] {
  return fleet.bindings.filter((b) => services.includes(b.service));
}

/** Where the services should find MariaDB and Redis: on `dbMachine` itself. */
export function localTarget(fleet: Fleet, dbMachine: Machine): BindingTarget {
  return {
    mysqlHost: dbMachine.address,
    mysqlPort: fleet.database?.port ?? 3306,
    redisHost: dbMachine.address,
    redisPort: fleet.redis?.port ?? 6379,
  };
}

export function edgesExcept(fleet: Fleet, failed: readonly string[]): Machine[] {
  return fleet.machines.filter((m) => m.roles.includes('edge') && !failed.includes(m.name));
}

export function domainsOf(machines: readonly Machine[]): string[] {
  return machines.flatMap((m) => m.domains);
}

/** Services restored first (§4.3: go-admin, go-api, go-fly) and later (go-upload, go-job). */
export function servicesByPriority(fleet: Fleet): { first: string[]; later: string[] } {
  const entries = Object.entries(fleet.services);
  return {
    first: entries.filter(([, s]) => s.priority === 'first').map(([n]) => n),
    later: entries.filter(([, s]) => s.priority === 'later').map(([n]) => n),
  };
}

/** Services routed through the edges, i.e. the ones a user can reach. */
export function forwardedServices(fleet: Fleet, among: readonly string[]): string[] {
  const routed = new Set((fleet.nginx?.upstreams ?? []).map((u) => u.service));
  return among.filter((s) => routed.has(s));
}
