/**
 * Rules that span several parts of the fleet file and so cannot live in the schema:
 * references must point at declared things, and the fleet must be recoverable as described.
 */
import { nearest } from '../util/suggest.ts';
import type { Fleet, Role } from './schema.ts';
import { takenPorts } from './model.ts';

export interface CrossProblem {
  path: PropertyKey[];
  message: string;
}

export function crossCheck(fleet: Fleet): CrossProblem[] {
  const problems: CrossProblem[] = [];
  const report = (path: PropertyKey[], message: string) => problems.push({ path, message });
  const machineNames = fleet.machines.map((m) => m.name);
  const serviceNames = Object.keys(fleet.services);
  const holders = (role: Role) => fleet.machines.filter((m) => m.roles.includes(role));

  firstDuplicates(machineNames).forEach(([i, first]) =>
    report(['machines', i, 'name'], `machine name \`${machineNames[i]}\` is used twice (first at machines[${first}])`),
  );
  const addresses = fleet.machines.map((m) => m.address);
  firstDuplicates(addresses).forEach(([i, first]) =>
    report(['machines', i, 'address'], `address ${addresses[i]} is already used by machine \`${machineNames[first]}\``),
  );
  const domainOwner = new Map<string, string>();
  fleet.machines.forEach((m, i) =>
    m.domains.forEach((d, j) => {
      const owner = domainOwner.get(d.toLowerCase());
      if (owner) report(['machines', i, 'domains', j], `domain ${d} is already listed on machine \`${owner}\``);
      else domainOwner.set(d.toLowerCase(), m.name);
    }),
  );
  fleet.machines.forEach((m, i) => {
    firstDuplicates(m.roles).forEach(([j]) => report(['machines', i, 'roles', j], `role \`${m.roles[j]}\` is listed twice`));
    if (m.roles.includes('spare') && m.roles.length > 1) {
      report(['machines', i, 'roles'], 'a spare is a bare machine: it holds no other role until it is provisioned');
    }
  });

  for (const [name, service] of Object.entries(fleet.services)) {
    const runners = fleet.machines.filter((m) => service.roles.some((r) => m.roles.includes(r)));
    if (runners.length === 0) {
      report(['services', name, 'roles'], `service \`${name}\` runs on no machine: no machine holds role ${service.roles.map((r) => `\`${r}\``).join(' or ')}`);
    }
    if (service.singleton && runners.length > 1) {
      report(
        ['services', name, 'singleton'],
        `service \`${name}\` is a singleton but would run on ${runners.length} machines (${runners.map((m) => m.name).join(', ')}); exactly one may run`,
      );
    }
  }

  if (fleet.tls.enabled) {
    // Ports the file gives the TLS listeners (the defaults are free ones): two listeners on
    // one port would fail at prepare, on the machine.
    const taken = takenPorts(fleet);
    const listeners = [...(fleet.database ? (['databasePort'] as const) : []), ...(fleet.redis ? (['redisPort'] as const) : [])];
    for (const key of listeners) {
      const p = fleet.tls[key];
      if (p === undefined) continue;
      const owner = taken.get(p);
      if (owner) report(['tls', key], `port ${p} is already used by ${owner}: the TLS listener needs a port of its own`);
      else taken.set(p, key === 'databasePort' ? "MariaDB's TLS listener" : "Redis's TLS listener");
    }
  }

  fleet.bindings.forEach((b, i) => {
    if (!fleet.services[b.service]) report(['bindings', i, 'service'], unknownRef('service', b.service, serviceNames));
  });
  const bindingFiles = fleet.bindings.map((b) => b.file);
  firstDuplicates(bindingFiles).forEach(([i, first]) =>
    report(['bindings', i, 'file'], `file ${bindingFiles[i]} is already bound at bindings[${first}]`),
  );

  if (fleet.database) {
    const primaries = holders('db-primary');
    const names = primaries.map((m) => m.name).join(', ');
    if (primaries.length === 0) report(['machines'], 'exactly one machine must hold role `db-primary` (found none)');
    for (const extra of primaries.slice(1)) {
      const i = fleet.machines.indexOf(extra);
      report(['machines', i, 'roles', extra.roles.indexOf('db-primary')], `exactly one machine must hold role \`db-primary\` (found ${primaries.length}: ${names})`);
    }
  }
  if (Object.keys(fleet.services).length > 0 && fleet.bindings.some((b) => fleet.services[b.service]) && !fleet.database) {
    report([], 'config bindings point services at a database, but no `database` section is declared');
  }
  if (holders('redis').length > 1) report(['machines'], 'at most one machine may hold role `redis` (the Redis primary)');

  fleet.nginx?.upstreams.forEach((u, i) => {
    if (!fleet.services[u.service]) report(['nginx', 'upstreams', i, 'service'], unknownRef('service', u.service, serviceNames));
  });
  if (fleet.nginx && holders('edge').length === 0) report(['nginx'], 'nginx upstreams are declared but no machine holds role `edge`');

  if (fleet.endpoints) {
    const e = fleet.endpoints;
    if (e.databasePort === e.redisPort) report(['endpoints', 'redisPort'], `port ${e.redisPort} is already the database endpoint's`);
    if (!fleet.database) report(['endpoints'], 'stable endpoints forward to the database, but no `database` section is declared');
    const taken = new Map<number, string>();
    if (fleet.database) taken.set(fleet.database.port, 'MariaDB');
    if (fleet.redis) taken.set(fleet.redis.port, 'Redis');
    for (const [name, service] of Object.entries(fleet.services)) {
      for (const p of [service.port, service.health?.port]) if (p !== undefined) taken.set(p, `service \`${name}\``);
    }
    for (const key of ['databasePort', 'redisPort'] as const) {
      const owner = taken.get(e[key]);
      if (owner) report(['endpoints', key], `port ${e[key]} is already used by ${owner} on the same machines`);
    }
  }
  fleet.backups?.stores.forEach((store, i) => {
    const machine = fleet.machines.find((m) => m.name === store);
    if (!machine) report(['backups', 'stores', i], unknownRef('machine', store, machineNames));
    else if (!machine.roles.includes('backup-store') && !machine.down?.roles.includes('backup-store')) {
      report(['backups', 'stores', i], `machine \`${store}\` is a backup store here but does not hold role \`backup-store\``);
    }
  });
  if (fleet.backups?.stores.some((s) => fleet.machines.find((m) => m.name === s)?.offsite) && !fleet.backups.encryptionKey) {
    report(['backups'], 'an off-site store receives backups, so `encryptionKey` is required (copies leave the fleet encrypted)');
  }
  return problems;
}

function unknownRef(kind: string, name: string, known: string[]): string {
  const guess = nearest(name, known);
  return `unknown ${kind} \`${name}\`${guess ? ` — did you mean \`${guess}\`?` : known.length ? ` (declared: ${known.join(', ')})` : ''}`;
}

/** [index of a repeat, index of its first occurrence] for every repeated value. */
function firstDuplicates(values: readonly string[]): Array<[number, number]> {
  const seen = new Map<string, number>();
  const out: Array<[number, number]> = [];
  values.forEach((v, i) => {
    const first = seen.get(v);
    if (first === undefined) seen.set(v, i);
    else out.push([i, first]);
  });
  return out;
}
