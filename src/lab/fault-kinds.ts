/** The faults the lab can inject, as data: what `lab fault` takes and `lab status` shows. */

export const FAULT_KINDS = [
  'machine-down', // every process of the host killed and its cable pulled
  'link-down', // the host's cable pulled, its processes running on (a flapping link, a switch port)
  'partition', // the listed hosts cannot reach each other (they still reach everyone else)
  'ip-blocked', // the client cannot reach this host's address (in both directions)
  'port-blocked', // one TCP port of a host is dropped on the switch
  'domain-blocked', // the client's DNS answer for a domain is poisoned
  'service-crashed', // one supervisor program stopped
  'mariadb-crashed', // mariadbd killed with SIGKILL
  'disk-full', // the host's disk has no free byte left
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export type FaultSpec =
  | { kind: 'machine-down'; host: string }
  | { kind: 'link-down'; host: string }
  | { kind: 'partition'; hosts: string[] }
  | { kind: 'ip-blocked'; host: string }
  | { kind: 'port-blocked'; host: string; port: number }
  | { kind: 'domain-blocked'; domain: string }
  | { kind: 'service-crashed'; host: string; program: string }
  | { kind: 'mariadb-crashed'; host: string }
  | { kind: 'disk-full'; host: string };

export type ActiveFault = FaultSpec & { since: string };

/** A stable text form, used as the fault's key and shown by `lab status`. */
export function describeFault(f: FaultSpec): string {
  switch (f.kind) {
    case 'machine-down':
    case 'link-down':
    case 'ip-blocked':
    case 'mariadb-crashed':
    case 'disk-full':
      return `${f.kind} ${f.host}`;
    case 'partition':
      return `partition ${[...f.hosts].sort().join(' ')}`;
    case 'port-blocked':
      return `port-blocked ${f.host} ${f.port}`;
    case 'domain-blocked':
      return `domain-blocked ${f.domain}`;
    case 'service-crashed':
      return `service-crashed ${f.host} ${f.program}`;
  }
}

export function sameFault(a: FaultSpec, b: FaultSpec): boolean {
  return describeFault(a) === describeFault(b);
}
