/**
 * Installs a stand-in for every service of the fleet on the hosts that hold its roles, the way
 * the real services are installed: their config files at the fleet's binding paths, in the
 * declared format, pointing at the db-primary's MariaDB and the redis host, and a supervisor
 * program. Config files are written once: after that they belong to lifeboat, which
 * rewrites them on a switch-over.
 *
 * Every service runs the generic stand-in (../apps/services/generic.ts), configured from the
 * fleet file alone. The seed's richer variants (register/login, chat, uploads, src/lab/apps/
 * services/go-*.ts) are used only where a service matches one in name, folder and every
 * config file; nothing else depends on service names.
 */
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { stringify } from 'yaml';
import type { Binding, BindingKind, Fleet, Service } from '../../fleet/schema.ts';
import { keyPath } from '../../actions/config-formats/format.ts';
import { ensureStandInBundle } from '../apps/bundle.ts';
import { configFiles, SERVICES, type ServiceName } from '../apps/config.ts';
import { genericSpecFile, type GenericSpecInput } from '../apps/generic-spec.ts';
import { genericProgram, supervisorProgram, type SupervisorProgram } from '../apps/supervisor.ts';
import { fleetHostFolders } from '../fleet-folders.ts';
import { HOST_FOLDERS } from '../paths.ts';
import type { HostContext } from './context.ts';
import { putDir, putFile } from './files.ts';

/** The seed's variant `service` can stand in as, when it matches name, folder and config files. */
export function richVariantOf(fleet: Fleet, service: string): ServiceName | undefined {
  if (!(SERVICES as readonly string[]).includes(service)) return undefined;
  const variant = service as ServiceName;
  const files = configFiles(variant);
  if (fleet.services[service]?.dir !== join('/wwwroot/go', variant)) return undefined;
  const bindings = fleet.bindings.filter((b) => b.service === service);
  return bindings.every((b) => b.file === files.main) ? variant : undefined;
}

export interface StandInOf {
  service: string;
  spec: Service;
  /** The seed's richer variant, or undefined for the generic stand-in. */
  variant?: ServiceName;
}

/** The services this host runs (by its roles), each with the stand-in that plays it. */
export function standInsOf(ctx: Pick<HostContext, 'fleet' | 'host'>): StandInOf[] {
  if (ctx.host.kind !== 'fleet') return [];
  return Object.entries(ctx.fleet.services)
    .filter(([, spec]) => spec.roles.some((r) => ctx.host.roles.includes(r)))
    .map(([service, spec]) => {
      const variant = richVariantOf(ctx.fleet, service);
      return { service, spec, ...(variant ? { variant } : {}) };
    });
}

/** Ports the lab's own servers take on a host: a service cannot have them too. */
function labPorts(fleet: Fleet): Map<number, string> {
  return new Map<number, string>([
    [22, 'sshd'], [53, 'BIND'], [80, 'nginx on edges'],
    [fleet.database?.port ?? 3306, 'MariaDB'], [fleet.redis?.port ?? 6379, 'Redis'],
  ]);
}

export const portsOf = (spec: Service): number[] => [...new Set([spec.port, spec.health?.port].filter((p): p is number => p !== undefined))];

/**
 * Why the lab cannot stand in for some service of `fleet` (empty when it can for all):
 * `lab up` refuses such a fleet naming the service, instead of starting a lab without it.
 */
export function standInProblems(fleet: Fleet): string[] {
  const problems: string[] = [];
  const reserved = labPorts(fleet);
  const entries = Object.entries(fleet.services);
  for (const [service, spec] of entries) {
    for (const port of portsOf(spec)) {
      const taken = reserved.get(port);
      if (taken) problems.push(`service ${service}: port ${port} is ${taken}'s in the lab`);
    }
    const kinds = fleet.bindings.filter((b) => b.service === service).flatMap((b) => Object.values(b.keys));
    if (kinds.some((k) => k.startsWith('mysql')) && !fleet.database) problems.push(`service ${service}: its config binds MySQL, but the fleet has no database`);
    if (kinds.some((k) => k.startsWith('redis')) && !fleet.redis) problems.push(`service ${service}: its config binds Redis, but the fleet has no redis`);
  }
  // Two services a machine runs together cannot answer on one port.
  for (let i = 0; i < entries.length; i++) {
    for (let j = i + 1; j < entries.length; j++) {
      const [a, sa] = entries[i]!;
      const [b, sb] = entries[j]!;
      const together = fleet.machines.some((m) => sa.roles.some((r) => m.roles.includes(r)) && sb.roles.some((r) => m.roles.includes(r)));
      const shared = portsOf(sa).filter((p) => portsOf(sb).includes(p));
      if (together && shared.length > 0) problems.push(`services ${a} and ${b}: both answer on port ${shared.join(', ')} on the same machine`);
    }
  }
  for (const binding of fleet.bindings) {
    if (!fleet.services[binding.service]) problems.push(`binding ${binding.file}: no service ${binding.service} in the fleet`);
  }
  return problems;
}

interface Targets {
  db: { host: string; port: number; user: string; password: string; schema: string };
  redis: { host: string; port: number; password?: string };
}

function targets(ctx: HostContext): Targets {
  const primary = ctx.plan.hosts.find((h) => h.roles.includes('db-primary'));
  const redis = ctx.plan.hosts.find((h) => h.roles.includes('redis'));
  const db = ctx.fleet.database;
  return {
    db: { host: primary?.address ?? '127.0.0.1', port: db?.port ?? 3306, user: db?.user ?? 'lab', password: ctx.secrets.dbAppPassword, schema: db?.schema ?? 'lab' },
    redis: { host: redis?.address ?? '127.0.0.1', port: ctx.fleet.redis?.port ?? 6379, ...(ctx.secrets.redisPassword ? { password: ctx.secrets.redisPassword } : {}) },
  };
}

/** The first value of a binding key: where the service finds the database or Redis now. */
export function bindingValue(kind: BindingKind, t: Targets): string | number {
  switch (kind) {
    case 'mysql-host': return t.db.host;
    case 'mysql-port': return t.db.port;
    case 'mysql-address': return `${t.db.host}:${t.db.port}`;
    case 'mysql-dsn-goframe': return `mysql:${t.db.user}:${t.db.password}@tcp(${t.db.host}:${t.db.port})/${t.db.schema}`;
    case 'redis-host': return t.redis.host;
    case 'redis-port': return t.redis.port;
    case 'redis-address': return `${t.redis.host}:${t.redis.port}`;
  }
}

/** A config file holding exactly the binding's keys, in its format (dots nest in yaml and json). */
export function bindingFileText(binding: Binding, t: Targets): string {
  const header = `lifeboat's lab wrote this for the ${binding.service} stand-in`;
  if (binding.format === 'env') {
    const line = (key: string, value: string | number) => {
      const text = String(value);
      return `${key}=${/[\s#"'$\\]/.test(text) ? `'${text}'` : text}`;
    };
    return [`# ${header}`, ...Object.entries(binding.keys).map(([key, kind]) => line(key, bindingValue(kind, t))), ''].join('\n');
  }
  const doc: Record<string, unknown> = {};
  for (const [key, kind] of Object.entries(binding.keys)) {
    const path = keyPath(key);
    let node = doc;
    for (const part of path.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
    node[path.at(-1)!] = bindingValue(kind, t);
  }
  return binding.format === 'json' ? `${JSON.stringify(doc, null, 2)}\n` : `# ${header}\n${stringify(doc)}`;
}

/** The generic stand-in's spec for `service` (../apps/generic-spec.ts). */
export function genericSpec(service: string, spec: Service, ctx: HostContext): GenericSpecInput {
  const t = targets(ctx);
  const db = ctx.fleet.database;
  return {
    service,
    ports: portsOf(spec),
    ...(spec.health?.type === 'http' ? { health: { path: spec.health.path, status: spec.health.expectStatus } } : {}),
    bindings: ctx.fleet.bindings.filter((b) => b.service === service),
    ...(db ? {
      database: {
        port: t.db.port, user: t.db.user, password: t.db.password, schema: t.db.schema,
        domainTable: { name: db.domainTable.name, domainColumn: db.domainTable.domainColumn, ipColumn: db.domainTable.ipColumn, statusColumn: db.domainTable.statusColumn, online: db.domainTable.online },
      },
    } : {}),
    ...(ctx.fleet.redis ? { redis: { port: t.redis.port, ...(t.redis.password ? { password: t.redis.password } : {}) } } : {}),
    singleton: spec.singleton,
    dataDirs: spec.dataDirs,
  };
}

/** The seed variant's files, as `{ path in the host, content }`. */
export function richConfig(variant: ServiceName, spec: Service, ctx: HostContext): Array<{ path: string; content: string }> {
  const port = spec.port ?? 8000;
  const t = targets(ctx);
  const files = configFiles(variant);
  if (variant === 'go-fly') {
    return [
      { path: files.main, content: JSON.stringify({ Server: t.db.host, Port: String(t.db.port), Database: t.db.schema, Username: t.db.user, Password: t.db.password }, null, 2) + '\n' },
      { path: files.server!, content: JSON.stringify({ Port: String(port) }, null, 2) + '\n' },
    ];
  }
  const doc: Record<string, unknown> = {
    server: { address: `:${port}` },
    database: { default: { link: bindingValue('mysql-dsn-goframe', t) } },
    redis: { default: { address: `${t.redis.host}:${t.redis.port}`, db: 0, ...(t.redis.password ? { pass: t.redis.password } : {}) } },
  };
  if (variant === 'go-upload') doc.upload = { dir: spec.dataDirs[0] ?? join(spec.dir, 'uploads') };
  return [{ path: files.main, content: `# Written by lifeboat's lab for the ${variant} stand-in.\n${stringify(doc)}` }];
}

/** Where a path inside the host is on the machine: under the host folder bound over it. */
export function onMachine(ctx: Pick<HostContext, 'dir' | 'fleet'>, path: string): string {
  const folders = [...HOST_FOLDERS, ...fleetHostFolders(ctx.fleet).folders]
    .filter((f) => path === f.path || path.startsWith(`${f.path}/`))
    .sort((a, b) => b.path.length - a.path.length);
  const folder = folders[0];
  if (!folder) throw new Error(`${path} is in no folder of its own in a lab host`);
  return join(ctx.dir, folder.folder, relative(folder.path, path));
}

// Hosts are prepared side by side: one build per process, or one host's build could rewrite
// the bundle while another host's stand-ins are reading it.
const bundles = new Map<string, Promise<string>>();

export async function installStandIns(ctx: HostContext): Promise<void> {
  const standIns = standInsOf(ctx);
  if (standIns.length > 0) {
    let bundle = bundles.get(ctx.repoDir);
    if (!bundle) {
      bundle = ensureStandInBundle(ctx.repoDir);
      bundles.set(ctx.repoDir, bundle);
      bundle.catch(() => bundles.delete(ctx.repoDir));
    }
    await bundle;
  }
  const t = targets(ctx);
  for (const { service, spec, variant } of standIns) {
    await putDir(onMachine(ctx, spec.dir));
    const files = variant
      ? richConfig(variant, spec, ctx)
      : ctx.fleet.bindings.filter((b) => b.service === service).map((b) => ({ path: b.file, content: bindingFileText(b, t) }));
    for (const file of files) {
      const target = onMachine(ctx, file.path);
      if (!existsSync(target)) await putFile(target, file.content, { mode: 0o640 });
    }
    // The spec is the lab's, not the service's: rewritten on every `lab up`.
    if (!variant) await putFile(onMachine(ctx, genericSpecFile(spec.dir, service)), `${JSON.stringify(genericSpec(service, spec, ctx), null, 2)}\n`, { mode: 0o600 });
    for (const data of spec.dataDirs) await putDir(onMachine(ctx, data));
  }
}

export function standInPrograms(ctx: HostContext): SupervisorProgram[] {
  return standInsOf(ctx).map(({ service, spec, variant }) =>
    variant ? supervisorProgram(variant) : genericProgram(service, genericSpecFile(spec.dir, service)));
}
