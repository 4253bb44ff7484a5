/**
 * A Redis connection from the operator's side to a machine of the fleet, with the fleet's
 * port and password and a 1 s connect timeout: a dead Redis must not hold a recovery.
 */
import { Redis } from 'ioredis';
import { ActionError, type ActionContext } from './action.ts';
import { machineAddress } from './db-connection.ts';
import { redisTlsOptions } from '../remote/tls.ts';

export interface RedisConnectOptions {
  /** Default 1000 ms. */
  connectTimeoutMs?: number;
  /** Default: the fleet's `redis.port`. */
  port?: number;
}

export async function redisPassword(ctx: ActionContext): Promise<string | undefined> {
  const ref = ctx.fleet.redis?.password;
  return ref ? ctx.secret(ref) : undefined;
}

export function redisPort(ctx: ActionContext): number {
  if (!ctx.fleet.redis) throw new ActionError('precondition', 'the fleet file has no redis section');
  return ctx.fleet.redis.port;
}

export async function withRedis<T>(ctx: ActionContext, machine: string, work: (client: Redis) => Promise<T>, options: RedisConnectOptions = {}): Promise<T> {
  const host = machineAddress(ctx, machine);
  // An issued machine is reached on its TLS port only (src/remote/tls.ts).
  const tls = redisTlsOptions(ctx.fleet, ctx.fleet.machines.find((m) => m.name === machine)!);
  const port = tls?.port ?? options.port ?? redisPort(ctx);
  const password = await redisPassword(ctx);
  const client = new Redis({
    host,
    port,
    ...(tls ? { tls: tls.tls } : {}),
    ...(password ? { password } : {}),
    connectTimeout: options.connectTimeoutMs ?? 1000,
    commandTimeout: 5000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    lazyConnect: true,
  });
  client.on('error', () => {}); // each failure is reported by the command that hit it
  try {
    try {
      await client.connect();
    } catch (cause) {
      throw new ActionError('precondition', `cannot reach Redis on ${machine} (${host}:${port}): ${(cause as Error).message}`, { cause });
    }
    return await work(client);
  } finally {
    client.disconnect();
  }
}

/** `INFO <section>` as a map of its `key:value` lines. */
export async function redisInfo(client: Redis, section: string): Promise<Record<string, string>> {
  const text = await client.info(section);
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at > 0 && !line.startsWith('#')) out[line.slice(0, at)] = line.slice(at + 1);
  }
  return out;
}
