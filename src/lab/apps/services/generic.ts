/**
 * The generic stand-in: one program that stands in for any service of any fleet, configured
 * by the fleet alone (generic-spec.ts). It reads the service's own config files at the keys
 * the fleet's bindings name, in their declared format, so a recovery that rewrites them is
 * what moves it to the new database; a restart is how a change takes effect, as for the real
 * service. What it does, each part only where the fleet gives the service that resource:
 * - answers the service's health check: healthy when the database, Redis and data folders
 *   it uses answer;
 * - keeps acknowledged writes a drill can check: rows in the fleet's schema
 *   (`lifeboat_lab_writes`), files in its first data folder (written durably);
 * - reads the fleet's domain table, with the fleet's table and column names;
 * - a singleton records every run in `lifeboat_lab_runs`, so two copies running at once show.
 */
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdir, readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Pool, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type { Redis } from 'ioredis';
import { readBinding, type BindingTarget } from '../../../actions/config-bindings.ts';
import { check, createMysqlPool, createRedis, query } from '../clients.ts';
import { ConfigError } from '../config.ts';
import { LAB_RUNS_TABLE, LAB_WRITES_TABLE, type GenericSpec } from '../generic-spec.ts';
import { field, HttpError, type Log, type Route } from '../http.ts';
import type { RunningService } from '../service.ts';
import { checkName, writeDurably } from './go-upload.ts';
import { runEvery, type Periodic } from '../periodic.ts';

/** The MySQL and Redis addresses the service's config files hold now. */
export async function boundTarget(spec: GenericSpec): Promise<BindingTarget> {
  const target: BindingTarget = {};
  for (const binding of spec.bindings) {
    let text: string;
    try {
      text = await readFile(binding.file, 'utf8');
    } catch (error) {
      throw new ConfigError('CONFIG_MISSING', binding.file, `cannot read the config file (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { cause: error });
    }
    let read: BindingTarget;
    try {
      read = readBinding(text, binding).target;
    } catch (error) {
      throw new ConfigError('CONFIG_UNPARSABLE', binding.file, `not valid ${binding.format}: ${(error as Error).message}`, { cause: error });
    }
    for (const [key, value] of Object.entries(read) as Array<[keyof BindingTarget, never]>) target[key] ??= value;
    for (const [key, kind] of Object.entries(binding.keys)) {
      const ok = kind.startsWith('mysql') ? read.mysqlHost !== undefined || read.mysqlPort !== undefined : read.redisHost !== undefined || read.redisPort !== undefined;
      if (!ok) throw new ConfigError('CONFIG_INVALID', binding.file, `${key}: expected a ${kind} value`);
    }
  }
  return target;
}

const bindsMysql = (spec: GenericSpec) => spec.bindings.some((b) => Object.values(b.keys).some((k) => k.startsWith('mysql')));
const bindsRedis = (spec: GenericSpec) => spec.bindings.some((b) => Object.values(b.keys).some((k) => k.startsWith('redis')));

function mysqlPoolFor(spec: GenericSpec, target: BindingTarget): Pool | undefined {
  if (!bindsMysql(spec)) return undefined;
  const db = spec.database;
  if (!db) throw new ConfigError('CONFIG_INVALID', spec.bindings[0]!.file, 'bound to MySQL, but the spec names no database');
  if (!target.mysqlHost) throw new ConfigError('CONFIG_INVALID', spec.bindings[0]!.file, 'no binding key holds the MySQL host');
  return createMysqlPool({ host: target.mysqlHost, port: target.mysqlPort ?? db.port, user: db.user, password: db.password, database: db.schema });
}

function redisFor(spec: GenericSpec, target: BindingTarget): Redis | undefined {
  if (!bindsRedis(spec)) return undefined;
  if (!target.redisHost) throw new ConfigError('CONFIG_INVALID', spec.bindings[0]!.file, 'no binding key holds the Redis host');
  const password = spec.redis?.password;
  return createRedis({ host: target.redisHost, port: target.redisPort ?? spec.redis?.port ?? 6379, db: 0, ...(password ? { password } : {}) });
}

/** Runs of a singleton, each recorded with its host and its span on the database's clock. */
function singletonRuns(spec: GenericSpec, pool: Pool, log: Log): Periodic {
  const host = hostname();
  const table = pool.escapeId(LAB_RUNS_TABLE);
  return runEvery(spec.intervalSeconds * 1000, async (hold) => {
    const started = Date.now();
    const run = await query<ResultSetHeader>(pool, `INSERT INTO ${table} (service, host, started_at) VALUES (?, ?, NOW(6))`, [spec.service, host]);
    // 60% of the period: two schedulers overlap in every period whatever their phases.
    await hold(spec.intervalSeconds * 600 - (Date.now() - started));
    await query(pool, `UPDATE ${table} SET finished_at = NOW(6) WHERE id = ?`, [run.insertId]);
  }, log);
}

export async function startGeneric(spec: GenericSpec, log: Log): Promise<RunningService> {
  const target = await boundTarget(spec);
  const pool = mysqlPoolFor(spec, target);
  const redis = redisFor(spec, target);
  const filesDir = spec.dataDirs[0];
  if (filesDir) await mkdir(filesDir, { recursive: true });
  const runs = spec.singleton && pool ? singletonRuns(spec, pool, log) : undefined;
  const needPool = (): Pool => {
    if (!pool) throw new HttpError(404, 'NO_DATABASE', `${spec.service} uses no database`);
    return pool;
  };
  const needFiles = (): string => {
    if (!filesDir) throw new HttpError(404, 'NO_DATA_DIR', `${spec.service} keeps no files`);
    return filesDir;
  };

  const routes: Route[] = [
    {
      method: 'POST', path: '/lab/writes', handler: async (req) => {
        const p = needPool();
        const note = field(await req.json(), 'note', 200);
        const result = await query<ResultSetHeader>(p,
          `INSERT INTO ${p.escapeId(LAB_WRITES_TABLE)} (service, host, note) VALUES (?, ?, ?)`, [spec.service, hostname(), note]);
        return { status: 201, json: { id: result.insertId } };
      },
    },
    {
      method: 'POST', path: '/lab/files', handler: async (req) => {
        const dir = needFiles();
        const name = checkName(req.query.get('name'));
        const data = await req.body(16 * 1024 * 1024);
        await writeDurably(dir, name, data);
        return { status: 201, json: { name, sha256: createHash('sha256').update(data).digest('hex'), bytes: data.length } };
      },
    },
    {
      method: 'GET', path: /^\/lab\/files\/([^/]+)$/, handler: async (req) => {
        const name = checkName(req.params[0]);
        try {
          return { body: await readFile(join(needFiles(), name)) };
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new HttpError(404, 'NO_FILE', `no file ${name}`);
          throw error;
        }
      },
    },
    {
      method: 'GET', path: '/lab/domains', handler: async () => {
        const p = needPool();
        const t = spec.database!.domainTable;
        const rows = await query<RowDataPacket[]>(p,
          `SELECT ${p.escapeId(t.domainColumn)} AS domain, ${p.escapeId(t.ipColumn)} AS ip FROM ${p.escapeId(t.name)} WHERE ${p.escapeId(t.statusColumn)} = ? ORDER BY 1`,
          [t.online]);
        return { json: { domains: rows.map((r) => ({ domain: String(r.domain), ip: String(r.ip) })) } };
      },
    },
    {
      method: 'POST', path: '/lab/cache', handler: async () => {
        if (!redis) throw new HttpError(404, 'NO_REDIS', `${spec.service} uses no Redis`);
        const key = `lab:${spec.service}:${Date.now()}`;
        await redis.set(key, hostname(), 'EX', 600);
        return { json: { key } };
      },
    },
  ];

  return {
    routes,
    health: async () => {
      const checks: Record<string, string> = {};
      if (pool) checks.mysql = await check(() => query(pool, 'SELECT 1', [], 1000));
      if (redis) checks.redis = await check(() => redis.ping());
      for (const dir of spec.dataDirs) checks[dir] = await check(() => access(dir, constants.W_OK));
      if (runs) checks.runs = runs.lastError() === undefined ? 'ok' : `failed: ${runs.lastError()}`;
      return checks;
    },
    close: async () => {
      await runs?.stop();
      redis?.disconnect();
      await pool?.end();
    },
  };
}
