/**
 * The Redis configuration a provisioned machine gets: a drop-in lifeboat owns (address,
 * port, password), included as the LAST line of redis.conf, because in redis.conf the last
 * value of a setting wins. A machine with no redis.conf at all (a bare spare) gets a minimal
 * one. Pure functions, unit-tested.
 */
import { ActionError } from '../action.ts';

export interface RedisPaths {
  /** The file redis-server is started with. */
  config: string;
  /** The drop-in lifeboat owns. */
  dropIn: string;
  dataDir: string;
  pidFile: string;
  logFile: string;
}

/** Debian's layout. */
export const DEBIAN_REDIS_PATHS: RedisPaths = {
  config: '/etc/redis/redis.conf',
  dropIn: '/etc/redis/lifeboat.conf',
  dataDir: '/var/lib/redis',
  pidFile: '/run/redis/redis-server.pid',
  logFile: '/var/log/redis/redis-server.log',
};

export interface RedisDropInSpec {
  machine: string;
  bind: readonly string[];
  port: number;
  password?: string;
}

/** A value for redis.conf, double-quoted (sdssplitargs rules: `\"` and `\\` escaped). */
export function redisValue(value: string): string {
  if (/[\r\n]/.test(value)) throw new ActionError('precondition', 'a Redis setting cannot hold a line break');
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function renderRedisDropIn(spec: RedisDropInSpec): string {
  const lines = [
    `# Written by lifeboat when it provisioned ${spec.machine}. Re-provisioning rewrites it;`,
    '# redis.conf includes it last, so these values win.',
    `bind ${spec.bind.join(' ')}`,
    `port ${spec.port}`,
  ];
  if (spec.password !== undefined) {
    // masterauth too: the day this machine becomes a replica it logs in with the same password.
    lines.push(`requirepass ${redisValue(spec.password)}`, `masterauth ${redisValue(spec.password)}`);
  } else {
    // Without a password Redis 7 answers only loopback ("protected mode"), yet the other
    // machines of the fleet must reach it. The fleet file chose no password; say so here.
    lines.push('# The fleet file sets no redis.password: anyone who reaches the addresses above gets in.', 'protected-mode no');
  }
  return lines.join('\n') + '\n';
}

export function includeLine(paths: RedisPaths): string {
  return `include ${paths.dropIn}`;
}

/** Written only where no redis.conf exists: the Debian package's paths, then the drop-in. */
export function renderBaseRedisConfig(paths: RedisPaths): string {
  return [
    '# Written by lifeboat: this machine had no redis.conf.',
    'daemonize no',
    `pidfile ${paths.pidFile}`,
    `logfile ${paths.logFile}`,
    `dir ${paths.dataDir}`,
    'dbfilename dump.rdb',
    'save 3600 1 300 100 60 10000',
    includeLine(paths),
    '',
  ].join('\n');
}

/**
 * `text` with the drop-in included as its last directive (an existing include of it moved
 * to the end). Returns `text` itself when it already is so.
 */
export function withIncludeLast(text: string, paths: RedisPaths): string {
  const include = includeLine(paths);
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const directives = lines.filter((l) => l.trim() !== '' && !l.trim().startsWith('#'));
  if (directives[directives.length - 1]?.trim() === include) return text;
  const kept = lines.filter((l) => l.trim() !== include);
  return [...kept, '# lifeboat: its drop-in comes last, so its values win.', include, ''].join('\n');
}
