/**
 * Installs the stand-in services (src/lab/apps) on the hosts that hold their roles, the way
 * the real services are installed: a config file in the real service's own format and path
 * (GoFrame `config.yaml`, go-fly's `config/mysql.json`) pointing at the db-primary's MariaDB
 * and the redis host, and a supervisor program. Config files are written once: after that
 * they belong to lifeboat, which rewrites them on a switch-over.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { SERVICES, type ServiceName } from '../apps/config.ts';
import { ensureStandInBundle } from '../apps/bundle.ts';
import { supervisorProgram } from '../apps/supervisor.ts';
import type { HostContext } from './context.ts';
import { putDir, putFile } from './files.ts';

export function isStandIn(service: string): service is ServiceName {
  return (SERVICES as readonly string[]).includes(service);
}

/** Services of the fleet with a stand-in that this host runs (by its roles). */
export function standInsOf(ctx: Pick<HostContext, 'fleet' | 'host'>): ServiceName[] {
  if (ctx.host.kind !== 'fleet') return [];
  return Object.entries(ctx.fleet.services)
    .filter(([name, spec]) => isStandIn(name) && spec.roles.some((r) => ctx.host.roles.includes(r)))
    .map(([name]) => name as ServiceName);
}

interface Targets {
  db: { host: string; port: number; user: string; password: string; schema: string };
  redis: { host: string; port: number; password?: string };
}

function targets(ctx: HostContext): Targets {
  const primary = ctx.plan.hosts.find((h) => h.roles.includes('db-primary'));
  const redis = ctx.plan.hosts.find((h) => h.roles.includes('redis'));
  return {
    db: {
      host: primary?.address ?? '127.0.0.1',
      port: ctx.fleet.database?.port ?? 3306,
      user: ctx.fleet.database?.user ?? 'speed',
      password: ctx.secrets.dbAppPassword,
      schema: ctx.fleet.database?.schema ?? 'speed',
    },
    redis: {
      host: redis?.address ?? '127.0.0.1',
      port: ctx.fleet.redis?.port ?? 6379,
      ...(ctx.secrets.redisPassword ? { password: ctx.secrets.redisPassword } : {}),
    },
  };
}

/** The files of one service, as `{ path in the host, content }`. */
export function standInConfig(service: ServiceName, ctx: HostContext): Array<{ path: string; content: string }> {
  const spec = ctx.fleet.services[service]!;
  const port = spec.port ?? 8000;
  const t = targets(ctx);
  const dir = spec.dir;
  if (service === 'go-fly') {
    return [
      {
        path: join(dir, 'config', 'mysql.json'),
        content: JSON.stringify({ Server: t.db.host, Port: String(t.db.port), Database: t.db.schema, Username: t.db.user, Password: t.db.password }, null, 2) + '\n',
      },
      { path: join(dir, 'config', 'server.json'), content: JSON.stringify({ Port: String(port) }, null, 2) + '\n' },
    ];
  }
  const doc: Record<string, unknown> = {
    server: { address: `:${port}` },
    database: { default: { link: `mysql:${t.db.user}:${t.db.password}@tcp(${t.db.host}:${t.db.port})/${t.db.schema}` } },
    redis: { default: { address: `${t.redis.host}:${t.redis.port}`, db: 0, ...(t.redis.password ? { pass: t.redis.password } : {}) } },
  };
  if (service === 'go-upload') doc.upload = { dir: spec.dataDirs[0] ?? join(dir, 'uploads') };
  return [{ path: join(dir, 'config.yaml'), content: `# Written by lifeboat's lab for the ${service} stand-in.\n${stringify(doc)}` }];
}

/** Host path (in the host) → folder on the machine, for paths under the host's own folders. */
function onMachine(ctx: HostContext, path: string): string {
  if (!path.startsWith('/wwwroot/')) throw new Error(`stand-in path ${path} is outside /wwwroot`);
  return join(ctx.dir, 'wwwroot', path.slice('/wwwroot/'.length));
}

// Hosts are prepared side by side: one build per process, or one host's build could rewrite
// the bundle while another host's stand-ins are reading it.
const bundles = new Map<string, Promise<string>>();

export async function installStandIns(ctx: HostContext): Promise<void> {
  if (standInsOf(ctx).length > 0) {
    let bundle = bundles.get(ctx.repoDir);
    if (!bundle) {
      bundle = ensureStandInBundle(ctx.repoDir);
      bundles.set(ctx.repoDir, bundle);
      bundle.catch(() => bundles.delete(ctx.repoDir));
    }
    await bundle;
  }
  for (const service of standInsOf(ctx)) {
    const spec = ctx.fleet.services[service]!;
    for (const file of standInConfig(service, ctx)) {
      const target = onMachine(ctx, file.path);
      if (!existsSync(target)) await putFile(target, file.content, { mode: 0o640 });
    }
    for (const data of spec.dataDirs) await putDir(onMachine(ctx, data));
  }
}

export function standInPrograms(ctx: HostContext) {
  return standInsOf(ctx).map((service) => supervisorProgram(service));
}
