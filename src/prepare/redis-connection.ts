/**
 * A Redis connection from the operator's side to a machine of the fleet, with the fleet's
 * port and password and short timeouts (a dead Redis must not hold a run). Lives here until
 * src/actions has a Redis building block of its own.
 */
import { Redis } from 'ioredis';
import { ActionError, type ActionContext } from '../actions/action.ts';
import { machineAddress } from '../actions/db-connection.ts';

export async function redisPassword(ctx: ActionContext): Promise<string | undefined> {
  const ref = ctx.fleet.redis?.password;
  return ref ? ctx.secret(ref) : undefined;
}

export function redisPort(ctx: ActionContext): number {
  if (!ctx.fleet.redis) throw new ActionError('precondition', 'the fleet file has no redis section');
  return ctx.fleet.redis.port;
}

export async function withRedis<T>(ctx: ActionContext, machine: string, work: (client: Redis) => Promise<T>): Promise<T> {
  const host = machineAddress(ctx, machine);
  const port = redisPort(ctx);
  const password = await redisPassword(ctx);
  const client = new Redis({
    host, port, ...(password ? { password } : {}),
    connectTimeout: 2000, commandTimeout: 5000, maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true,
  });
  client.on('error', () => {}); // reported by the rejected command
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
export async function info(client: Redis, section: string): Promise<Record<string, string>> {
  const text = await client.info(section);
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at > 0 && !line.startsWith('#')) out[line.slice(0, at)] = line.slice(at + 1);
  }
  return out;
}
