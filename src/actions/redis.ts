/**
 * Redis switch-over building blocks (runbook §4.3): promote a replica, or point a server at
 * a new primary. Both also persist the role with CONFIG REWRITE when the server was started
 * from a config file, so a restart does not bring back the old topology.
 */
import type { Redis } from 'ioredis';
import { ActionError, type Action, type ActionContext, type Change } from './action.ts';
import { asActionError } from './action-errors.ts';
import { redisInfo, redisPassword, withRedis, type RedisConnectOptions } from './redis-connection.ts';

export interface RedisRole {
  role: 'master' | 'replica';
  /** For a replica: where it replicates from and whether the link is up. */
  source?: { host: string; port: number; linkUp: boolean; syncing: boolean };
  offset: number;
}

export async function readRedisRole(client: Redis): Promise<RedisRole> {
  const info = await redisInfo(client, 'replication');
  if (info.role === 'master') return { role: 'master', offset: Number(info.master_repl_offset ?? 0) };
  return {
    role: 'replica',
    source: {
      host: info.master_host ?? '',
      port: Number(info.master_port),
      linkUp: info.master_link_status === 'up',
      syncing: info.master_sync_in_progress === '1',
    },
    offset: Number(info.slave_repl_offset ?? 0),
  };
}

export async function redisRole(ctx: ActionContext, machine: string, options?: RedisConnectOptions): Promise<RedisRole> {
  return withRedis(ctx, machine, readRedisRole, options);
}

function describe(role: RedisRole): string {
  if (role.role === 'master') return `primary (offset ${role.offset})`;
  const s = role.source!;
  return `replica of ${s.host}:${s.port}, link ${s.linkUp ? 'up' : 'down'}${s.syncing ? ', full sync in progress' : ''} (offset ${role.offset})`;
}

/** Persists the running role into redis.conf, when there is one. */
async function persist(client: Redis): Promise<void> {
  const server = await redisInfo(client, 'server');
  if (server.config_file) await client.config('REWRITE');
}

async function roleNote(ctx: ActionContext, machine: string, options: RedisConnectOptions): Promise<Change> {
  try {
    return { kind: 'note', machine, text: `Redis on ${machine} is now ${describe(await redisRole(ctx, machine, options))}` };
  } catch (error) {
    return { kind: 'note', machine, text: `Redis role unknown: ${(error as Error).message}` };
  }
}

/** REPLICAOF NO ONE: the replica keeps its data and starts taking writes. */
export function promoteRedis(machine: string, options: RedisConnectOptions = {}): Action {
  let previous: RedisRole | undefined;
  return {
    title: `Promote the Redis replica on ${machine} to primary`,
    machines: [machine],
    mutating: true,
    async plan(ctx) {
      return [
        await roleNote(ctx, machine, options),
        { kind: 'note', machine, text: 'Redis: REPLICAOF NO ONE' },
        { kind: 'note', machine, text: 'Redis: CONFIG REWRITE (when started from a config file)' },
      ];
    },
    async apply(ctx) {
      await asActionError('apply-failed', `${machine}: Redis`, () =>
        withRedis(ctx, machine, async (client) => {
          const role = await readRedisRole(client);
          if (role.role === 'master') return; // already promoted: applying again changes nothing
          previous ??= role;
          if (!role.source?.linkUp) ctx.log(`${machine}: Redis link to ${role.source?.host}:${role.source?.port} was down; writes since it broke are not here`);
          await client.call('REPLICAOF', 'NO', 'ONE');
          await persist(client);
        }, options),
      );
    },
    async verify(ctx) {
      const role = await asActionError('verify-failed', `${machine}: Redis`, () => redisRole(ctx, machine, options));
      if (role.role !== 'master') throw new ActionError('verify-failed', `Redis on ${machine} is still a ${describe(role)}`);
    },
    async undo(ctx) {
      if (!previous?.source) return;
      await replicaOf(machine, previous.source.host, previous.source.port, options).apply(ctx);
    },
  };
}

export interface ReplicaOfOptions extends RedisConnectOptions {
  /**
   * How long verify waits for the link to come up. Default 10000 ms: a first full sync waits
   * `repl-diskless-sync-delay` (5 s by default in Redis 7) before it even starts.
   */
  linkWithinMs?: number;
}

/** REPLICAOF host port (with masterauth when the fleet's Redis has a password). */
export function replicaOf(machine: string, host: string, port: number, options: ReplicaOfOptions = {}): Action {
  let previous: RedisRole | undefined;
  const within = options.linkWithinMs ?? 10_000;
  return {
    title: `Make Redis on ${machine} a replica of ${host}:${port}`,
    machines: [machine],
    mutating: true,
    async plan(ctx) {
      const changes: Change[] = [await roleNote(ctx, machine, options)];
      if (ctx.fleet.redis?.password) changes.push({ kind: 'note', machine, text: 'Redis: CONFIG SET masterauth ***' });
      changes.push(
        { kind: 'note', machine, text: `Redis: REPLICAOF ${host} ${port} (its own data is replaced by the primary's on the first sync)` },
        { kind: 'note', machine, text: 'Redis: CONFIG REWRITE (when started from a config file)' },
      );
      return changes;
    },
    async apply(ctx) {
      const password = await redisPassword(ctx);
      await asActionError('apply-failed', `${machine}: Redis`, () =>
        withRedis(ctx, machine, async (client) => {
          const role = await readRedisRole(client);
          previous ??= role;
          if (role.role === 'replica' && role.source?.host === host && role.source.port === port) return;
          if (password !== undefined) await client.config('SET', 'masterauth', password);
          await client.call('REPLICAOF', host, String(port));
          await persist(client);
        }, options),
      );
    },
    async verify(ctx) {
      const deadline = Date.now() + within;
      for (;;) {
        const role = await asActionError('verify-failed', `${machine}: Redis`, () => redisRole(ctx, machine, options));
        const right = role.role === 'replica' && role.source?.host === host && role.source.port === port;
        if (right && role.source?.linkUp) return;
        if (Date.now() + 100 > deadline) {
          throw new ActionError('verify-failed', `Redis on ${machine} is ${describe(role)}, expected a replica of ${host}:${port} with its link up`);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    async undo(ctx) {
      if (!previous) return;
      if (previous.role === 'master') await promoteRedis(machine, options).apply(ctx);
      else if (previous.source) await replicaOf(machine, previous.source.host, previous.source.port, options).apply(ctx);
    },
  };
}
