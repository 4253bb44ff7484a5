/**
 * Reads each stand-in's config file from the same path and in the same format as the real
 * Go service: GoFrame `config.yaml` (go-api, go-admin, go-upload, go-job) and go-fly's
 * `config/mysql.json`. Read once at start; a restart is how a change takes effect.
 * Errors name the file and the key, never a value (the files hold passwords).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

export const SERVICES = ['go-api', 'go-admin', 'go-fly', 'go-upload', 'go-job'] as const;
export type ServiceName = (typeof SERVICES)[number];

export type ConfigErrorCode = 'CONFIG_MISSING' | 'CONFIG_UNPARSABLE' | 'CONFIG_INVALID';

export class ConfigError extends Error {
  override name = 'ConfigError';
  /** EX_CONFIG from sysexits.h: supervisor shows it as a failed start, not a crash. */
  readonly exitCode = 78;
  constructor(readonly code: ConfigErrorCode, readonly file: string, detail: string, options?: { cause?: unknown }) {
    super(`${file}: ${detail}`, options);
  }
}

export interface Address { host: string; port: number }
export interface MysqlTarget extends Address { user: string; password: string; database: string }
export interface RedisTarget extends Address { password?: string; db: number }

/** Where the real services keep their config; `root` is overridden by tests only. */
export function configFiles(service: ServiceName, root = '/'): { main: string; server?: string } {
  const dir = join(root, 'wwwroot/go', service);
  if (service === 'go-fly') return { main: join(dir, 'config/mysql.json'), server: join(dir, 'config/server.json') };
  return { main: join(dir, 'config.yaml') };
}

const LINK = /^mysql:([^:@]+):(.*)@tcp\(([^()]+)\)\/([A-Za-z0-9_]+)(?:\?.*)?$/s;

/** GoFrame link `mysql:user:pass@tcp(host:port)/db[?params]`; null when it does not match. */
export function parseGoframeLink(link: string): MysqlTarget | null {
  const m = LINK.exec(link);
  if (!m) return null;
  const address = parseAddress(m[3]!, 3306);
  if (!address) return null;
  return { ...address, user: m[1]!, password: m[2]!, database: m[4]! };
}

/** `host:port`, `:port` (all interfaces) or `[v6]:port`; `defaultPort` when no port is given. */
export function parseAddress(text: string, defaultPort?: number): Address | null {
  const m = /^(?:\[([^\]]+)\]|([^:]*))(?::(\d{1,5}))?$/.exec(text.trim());
  if (!m) return null;
  const port = m[3] === undefined ? defaultPort : Number(m[3]);
  if (port === undefined || port < 1 || port > 65535) return null;
  return { host: m[1] ?? m[2] ?? '', port };
}

const node = <T extends z.ZodType>(shape: T) => z.union([shape, z.array(shape).min(1).transform((a) => a[0]!)]);
// GoFrame configs carry many more keys than a stand-in needs: unknown keys are allowed.
const goframeSchema = z.looseObject({
  server: z.looseObject({ address: z.string() }),
  database: z.looseObject({ default: node(z.looseObject({ link: z.string() })) }).optional(),
  redis: z.looseObject({
    default: z.looseObject({ address: z.string(), pass: z.string().optional(), db: z.number().int().min(0).optional() }),
  }).optional(),
  session: z.looseObject({ ttlSeconds: z.number().int().positive() }).optional(),
  upload: z.looseObject({ dir: z.string().regex(/^\//, 'expected an absolute path'), maxBytes: z.number().int().positive().optional() }).optional(),
  job: z.looseObject({
    intervalSeconds: z.number().positive().optional(),
    busySeconds: z.number().min(0).optional(),
  }).optional(),
});
type GoFrameFile = z.infer<typeof goframeSchema>;

const PORT_STRING = 'expected the port as a string of digits, e.g. "3306"';
// go-fly's real config: every value a string, Port included (a Go struct of strings).
const flyMysqlSchema = z.looseObject({
  Server: z.string().min(1),
  Port: z.string({ error: PORT_STRING }).regex(/^\d{1,5}$/, PORT_STRING),
  Database: z.string().regex(/^[A-Za-z0-9_]+$/),
  Username: z.string().min(1),
  Password: z.string(),
});
const flyServerSchema = z.looseObject({ Port: z.string({ error: PORT_STRING }).regex(/^\d{1,5}$/, PORT_STRING) });

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError('CONFIG_MISSING', file, `cannot read the config file (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { cause: error });
  }
}

function validate<T extends z.ZodType>(schema: T, value: unknown, file: string): z.infer<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ');
  throw new ConfigError('CONFIG_INVALID', file, issues);
}

async function readGoFrame(file: string): Promise<GoFrameFile> {
  let doc: unknown;
  try {
    doc = parseYaml(await readText(file));
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError('CONFIG_UNPARSABLE', file, 'not valid YAML', { cause: error });
  }
  return validate(goframeSchema, doc, file);
}

function need<T>(value: T | null | undefined, file: string, what: string): T {
  if (value === null || value === undefined) throw new ConfigError('CONFIG_INVALID', file, what);
  return value;
}

const listenOf = (c: GoFrameFile, file: string): Address =>
  need(parseAddress(c.server.address), file, 'server.address: expected ":PORT" or "HOST:PORT"');

const mysqlOf = (c: GoFrameFile, file: string): MysqlTarget =>
  need(parseGoframeLink(need(c.database?.default.link, file, 'database.default.link is missing')), file,
    'database.default.link: expected "mysql:USER:PASS@tcp(HOST:PORT)/DB"');

function redisOf(c: GoFrameFile, file: string): RedisTarget {
  const r = need(c.redis?.default, file, 'redis.default.address is missing');
  const address = need(parseAddress(r.address, 6379), file, 'redis.default.address: expected "HOST:PORT"');
  return { ...address, db: r.db ?? 0, ...(r.pass ? { password: r.pass } : {}) };
}

export type ServiceConfig =
  | { service: 'go-api'; listen: Address; mysql: MysqlTarget; redis: RedisTarget; sessionTtlSeconds: number }
  | { service: 'go-admin'; listen: Address; mysql: MysqlTarget }
  | { service: 'go-fly'; listen: Address; mysql: MysqlTarget }
  | { service: 'go-upload'; listen: Address; uploadDir: string; maxBytes: number }
  | { service: 'go-job'; listen: Address; mysql: MysqlTarget; intervalSeconds: number; busySeconds: number };

/** Reads and validates the service's config files; throws `ConfigError`. */
export async function loadConfig(service: ServiceName, root = '/'): Promise<ServiceConfig> {
  const files = configFiles(service, root);
  const file = files.main;
  switch (service) {
    case 'go-fly': {
      const m = validate(flyMysqlSchema, parseJson(await readText(file), file), file);
      const server = files.server ? await readOptionalJson(files.server) : undefined;
      const port = server === undefined ? 8002 : Number(validate(flyServerSchema, server, files.server!).Port);
      return {
        service, listen: { host: '', port },
        mysql: { host: m.Server, port: Number(m.Port), database: m.Database, user: m.Username, password: m.Password },
      };
    }
    case 'go-api': {
      const c = await readGoFrame(file);
      return {
        service, listen: listenOf(c, file), mysql: mysqlOf(c, file), redis: redisOf(c, file),
        sessionTtlSeconds: c.session?.ttlSeconds ?? 3600,
      };
    }
    case 'go-admin': {
      const c = await readGoFrame(file);
      return { service, listen: listenOf(c, file), mysql: mysqlOf(c, file) };
    }
    case 'go-upload': {
      const c = await readGoFrame(file);
      const upload = need(c.upload, file, 'upload.dir is missing');
      return { service, listen: listenOf(c, file), uploadDir: upload.dir, maxBytes: upload.maxBytes ?? 10 * 1024 * 1024 };
    }
    case 'go-job': {
      const c = await readGoFrame(file);
      const intervalSeconds = c.job?.intervalSeconds ?? 2;
      // A run lasting 60% of the period makes two concurrent schedulers overlap in every
      // period whatever their phases, so a drill sees a split brain within one period.
      const busySeconds = c.job?.busySeconds ?? intervalSeconds * 0.6;
      return { service, listen: listenOf(c, file), mysql: mysqlOf(c, file), intervalSeconds, busySeconds };
    }
  }
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ConfigError('CONFIG_UNPARSABLE', file, 'not valid JSON', { cause: error });
  }
}

async function readOptionalJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError('CONFIG_MISSING', file, `cannot read the config file (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { cause: error });
  }
  return parseJson(text, file);
}
