/**
 * The lab's shape, computed from a fleet and nothing else: which hosts exist, their lab
 * addresses and roles. Pure, so it is unit-tested and the same fleet always gives the same
 * addresses (a drill's report can name them).
 */
import type { Fleet, Role } from '../fleet/schema.ts';
import { LabError } from './errors.ts';

/** Why a host is in the lab: a machine of the fleet, or one of the lab's own helpers. */
export type HostKind = 'fleet' | 'spare' | 'client' | 'ops' | 'dns';

export interface LabHost {
  name: string;
  kind: HostKind;
  /** Address on the lab's switch (198.51.100.0/24). */
  address: string;
  /** The machine's address in the input fleet file, for fleet machines. */
  fleetAddress?: string;
  roles: Role[];
  domains: string[];
  /** Bridge port name inside `<id>-net` (interface names are limited to 15 bytes). */
  port: string;
}

export interface LabPlan {
  id: string;
  hosts: LabHost[];
}

export const LAB_SUBNET = '198.51.100';
export const LAB_PREFIX_LENGTH = 24;
/** Where a poisoned DNS answer points: an address no host has, so connections time out. */
export const SINKHOLE_ADDRESS = `${LAB_SUBNET}.254`;
export const SPARE_COUNT = 2;

const HELPERS: ReadonlyArray<{ name: string; kind: HostKind; octet: number }> = [
  { name: 'dns', kind: 'dns', octet: 2 },
  { name: 'ops', kind: 'ops', octet: 3 },
  { name: 'client', kind: 'client', octet: 4 },
];
const FIRST_FLEET_OCTET = 10;

/** Lab ids prefix namespace names, so they stay short and plain. */
export function assertLabId(id: string): void {
  if (!/^[a-z][a-z0-9]{0,7}$/.test(id)) {
    throw new LabError('bad-id', `lab id "${id}": expected 1–8 lower-case letters or digits, starting with a letter`);
  }
}

export function planLab(id: string, fleet: Fleet): LabPlan {
  assertLabId(id);
  const taken = new Set(fleet.machines.map((m) => m.name));
  const hosts: LabHost[] = [];
  const add = (host: Omit<LabHost, 'port'>): void => {
    hosts.push({ ...host, port: `v${hosts.length}` });
  };
  for (const helper of HELPERS) {
    if (taken.has(helper.name)) {
      throw new LabError('bad-fleet', `the fleet has a machine named "${helper.name}", which the lab uses for its own ${helper.kind} host; rename it`);
    }
    add({ name: helper.name, kind: helper.kind, address: `${LAB_SUBNET}.${helper.octet}`, roles: [], domains: [] });
  }
  let octet = FIRST_FLEET_OCTET;
  for (const machine of fleet.machines) {
    add({
      name: machine.name,
      kind: 'fleet',
      address: `${LAB_SUBNET}.${octet++}`,
      fleetAddress: machine.address,
      roles: [...machine.roles],
      domains: [...machine.domains],
    });
  }
  for (let i = 1; i <= SPARE_COUNT; i++) {
    const name = `spare-${i}`;
    if (taken.has(name)) continue; // the fleet already describes this spare itself
    add({ name, kind: 'spare', address: `${LAB_SUBNET}.${octet++}`, roles: ['spare'], domains: [] });
  }
  if (octet >= 250) throw new LabError('bad-fleet', `the fleet has ${fleet.machines.length} machines; the lab holds at most 235`);
  return { id, hosts };
}

export function hostsWithRole(plan: LabPlan, role: Role): LabHost[] {
  return plan.hosts.filter((h) => h.roles.includes(role));
}

/** Fleet machines and spares: the hosts that run sshd and that lifeboat manages. */
export function managedHosts(plan: LabPlan): LabHost[] {
  return plan.hosts.filter((h) => h.kind === 'fleet' || h.kind === 'spare');
}
