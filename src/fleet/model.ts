/** Questions about a validated fleet that many layers ask. Pure functions, no I/O. */
import type { Fleet, Machine, Role, Service } from './schema.ts';

export function machine(fleet: Fleet, name: string): Machine {
  const found = fleet.machines.find((m) => m.name === name);
  if (!found) throw new Error(`no machine named ${name} in fleet ${fleet.name}`);
  return found;
}

export function machinesWithRole(fleet: Fleet, role: Role): Machine[] {
  return fleet.machines.filter((m) => m.roles.includes(role));
}

/** The services a machine runs, by its roles, in the fleet file's order. */
export function servicesOn(fleet: Fleet, m: Machine): Array<[string, Service]> {
  return Object.entries(fleet.services).filter(([, s]) => s.roles.some((r) => m.roles.includes(r)));
}

/** Machines running a service, by their roles. */
export function machinesRunning(fleet: Fleet, service: string): Machine[] {
  const s = fleet.services[service];
  return s ? fleet.machines.filter((m) => s.roles.some((r) => m.roles.includes(r))) : [];
}

export function sshSettingsFor(fleet: Fleet, m: Machine): Fleet['ssh'] {
  return { ...fleet.ssh, ...(m.ssh ?? {}) } as Fleet['ssh'];
}

/** The folders of a machine's installation: its services' dirs, then the fleet's extraDirs for its roles. */
export function installationDirs(fleet: Fleet, m: Machine): string[] {
  const dirs = [...servicesOn(fleet, m).map(([, s]) => s.dir), ...fleet.extraDirs.filter((d) => d.roles.some((r) => m.roles.includes(r))).map((d) => d.path)];
  return [...new Set(dirs)];
}

/**
 * Config files of a machine's services that lie outside its installation folders (a binding
 * in `/etc/<app>/`): an archive of the installation must carry them too.
 */
export function configFilesOutside(fleet: Fleet, m: Machine): string[] {
  const dirs = installationDirs(fleet, m);
  const services = new Set(servicesOn(fleet, m).map(([name]) => name));
  const inside = (file: string) => dirs.some((d) => file.startsWith(d.endsWith('/') ? d : `${d}/`));
  return [...new Set(fleet.bindings.filter((b) => services.has(b.service) && !inside(b.file)).map((b) => b.file))];
}

/** Every folder any machine's installation may hold (what a bare spare must not have). */
export function allInstallationDirs(fleet: Fleet): string[] {
  return [...new Set([...Object.values(fleet.services).map((s) => s.dir), ...fleet.extraDirs.map((d) => d.path)])];
}

/**
 * Data kept inside installation folders, never copied or archived with them: the services'
 * dataDirs (uploads have their own sync) and the backups' dump folder.
 */
export function dataDirs(fleet: Fleet): string[] {
  return [...new Set([...Object.values(fleet.services).flatMap((s) => s.dataDirs), ...(fleet.backups ? [fleet.backups.dumpDir] : [])])];
}

/** `dataDirs` that lie under `dir`, relative to it (what a copy of `dir` leaves out). */
export function dataUnder(fleet: Fleet, dir: string): string[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  return dataDirs(fleet).filter((d) => d.startsWith(prefix)).map((d) => d.slice(prefix.length));
}

/**
 * The backup stores in service: those of `backups.stores` that no recovery took out (a
 * machine that is `down` keeps its place in the list until it is brought back, and holds
 * nothing anyone may restore from or ship to).
 */
export function storesInService(fleet: Fleet): string[] {
  return (fleet.backups?.stores ?? []).filter((s) => !fleet.machines.find((m) => m.name === s)?.down);
}

/**
 * The machines that carry stable endpoints (fleet `endpoints`): every machine in service
 * whose services, by its roles, are bound to MariaDB or Redis.
 */
export function endpointHolders(fleet: Fleet): Machine[] {
  if (!fleet.endpoints) return [];
  const bound = new Set(fleet.bindings.map((b) => b.service));
  return fleet.machines.filter((m) => !m.down && !m.roles.includes('spare') && servicesOn(fleet, m).some(([name]) => bound.has(name)));
}

/** Ports the fleet's machines already listen on, by owner (MariaDB, Redis, services, endpoints). */
export function takenPorts(fleet: Fleet): Map<number, string> {
  const taken = new Map<number, string>();
  if (fleet.database) taken.set(fleet.database.port, 'MariaDB');
  if (fleet.redis) taken.set(fleet.redis.port, 'Redis');
  for (const [name, service] of Object.entries(fleet.services)) {
    for (const p of [service.port, service.health?.port]) if (p !== undefined) taken.set(p, `service \`${name}\``);
  }
  if (fleet.endpoints) {
    taken.set(fleet.endpoints.databasePort, 'the database endpoint');
    if (fleet.redis) taken.set(fleet.endpoints.redisPort, 'the Redis endpoint');
  }
  return taken;
}

/**
 * The TLS listeners' ports (fleet `tls`): as the file says, else the first port from 13307
 * (MariaDB's) and 16380 (Redis's) up that nothing else of the fleet uses — beside the
 * endpoints' defaults, away from the ports fleets give MariaDB and Redis themselves.
 */
export function tlsPorts(fleet: Fleet): { database: number; redis: number } {
  const taken = takenPorts(fleet);
  const free = (from: number, also?: number) => {
    let p = from;
    while (taken.has(p) || p === also) p++;
    return p;
  };
  const database = fleet.tls.databasePort ?? free(13307, fleet.tls.redisPort);
  const redis = fleet.tls.redisPort ?? free(16380, database);
  return { database, redis };
}
