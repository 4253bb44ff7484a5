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
