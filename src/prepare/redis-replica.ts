/**
 * Makes Redis on a machine a replica of the primary's Redis: live with REPLICAOF (and
 * masterauth when the fleet has a password), and in its redis.conf so a restart keeps it.
 * Unlike actions/redis.ts `replicaOf` (recovery's, which persists with CONFIG REWRITE), this
 * plans exactly what it will change — nothing on a prepared fleet — and edits redis.conf
 * through the Remote, which works where the redis user cannot rewrite its own config folder.
 * The replica's own data is replaced by the primary's on the first sync, as Redis does.
 */
import { ActionError, type Action, type ActionContext, type Change } from '../actions/action.ts';
import type { Machine } from '../fleet/schema.ts';
import { fileChange, readIfExists } from '../actions/desired-file.ts';
import type { PrepareOptions } from './prepare-options.ts';
import { tlsRequired } from '../remote/tls.ts';
import { tlsPorts } from '../fleet/model.ts';
import { settle } from './settle.ts';
import { redisInfo as info, redisPassword, redisPort, withRedis } from '../actions/redis-connection.ts';

const BLOCK_START = '# --- lifeboat prepare: replication (promotion rewrites this block) ---';
const BLOCK_END = '# --- end of lifeboat block ---';

/** The config text with any replicaof/slaveof/masterauth lines replaced by lifeboat's block. */
export function withReplicaBlock(text: string, primary: Machine, port: number, password: string | undefined): string {
  const lines = text.split('\n');
  const kept: string[] = [];
  let inBlock = false;
  for (const line of lines) {
    if (line === BLOCK_START) inBlock = true;
    else if (line === BLOCK_END) inBlock = false;
    else if (!inBlock && !/^\s*(replicaof|slaveof)\s/i.test(line) && !(password !== undefined && /^\s*masterauth\s/i.test(line))) kept.push(line);
  }
  while (kept.length && kept[kept.length - 1] === '') kept.pop();
  const block = [BLOCK_START, `replicaof ${primary.address} ${port}`, ...(password !== undefined ? [`masterauth ${password}`] : []), 'replica-read-only yes', BLOCK_END];
  return [...kept, '', ...block, ''].join('\n');
}

/** redis.conf keeps passwords in plain `masterauth` / `requirepass` lines: never show them. */

export function redisReplicaOf(primary: Machine, replica: Machine, options: PrepareOptions): Action {
  async function inspect(ctx: ActionContext) {
    // Both ends hold certificates of the fleet's CA: the replica follows the primary's TLS port.
    const port = tlsRequired(ctx.fleet, primary.name) && tlsRequired(ctx.fleet, replica.name) ? tlsPorts(ctx.fleet).redis : redisPort(ctx);
    const primaryRole = await withRedis(ctx, primary.name, async (client) => (await info(client, 'replication')).role);
    if (primaryRole !== 'master') {
      // After a failover the fleet file may still name the old primary: never follow it.
      throw new ActionError('precondition', `Redis on ${primary.name} is a ${primaryRole ?? 'unknown'}, not a primary: if it was demoted, make the fleet file name the current primary (role redis) first`);
    }
    const password = await redisPassword(ctx);
    return withRedis(ctx, replica.name, async (client) => {
      const repl = await info(client, 'replication');
      const server = await info(client, 'server');
      const masterauth = password === undefined ? undefined : ((await client.config('GET', 'masterauth')) as string[])[1];
      const configFile = server.config_file ?? '';
      if (!configFile) {
        throw new ActionError('precondition', `Redis on ${replica.name} runs without a config file: a replica setting would not survive its restart; start it with /etc/redis/redis.conf`);
      }
      const before = await readIfExists(ctx.remote(replica.name), configFile);
      if (before === undefined) throw new ActionError('precondition', `${replica.name}: Redis names ${configFile} as its config file, but it cannot be read`);
      const after = withReplicaBlock(before, primary, port, password);
      const linked = repl.role === 'slave' && repl.master_host === primary.address && Number(repl.master_port) === port;
      return { port, password, repl, linked, authOk: password === undefined || masterauth === password, configFile, before, after };
    });
  }

  return {
    title: `Make Redis on ${replica.name} a replica of ${primary.name}`,
    machines: [replica.name],
    mutating: true,
    async plan(ctx) {
      const s = await inspect(ctx);
      const changes: Change[] = fileChange({ machine: replica.name, path: s.configFile, content: s.after }, s.before, s.after);
      if (!s.authOk) changes.push({ kind: 'command', machine: replica.name, command: '(redis) CONFIG SET masterauth ***' });
      if (!s.linked) {
        changes.push({ kind: 'command', machine: replica.name, command: `(redis) REPLICAOF ${primary.address} ${s.port}` });
        changes.push({ kind: 'note', machine: replica.name, text: `Redis on ${replica.name} drops its own data and loads ${primary.name}'s` });
      }
      return changes;
    },
    async apply(ctx) {
      const s = await inspect(ctx);
      if (s.before !== s.after) await ctx.remote(replica.name).writeFile(s.configFile, s.after, { backup: true });
      await withRedis(ctx, replica.name, async (client) => {
        if (!s.authOk && s.password !== undefined) await client.config('SET', 'masterauth', s.password);
        if (!s.linked) await client.call('REPLICAOF', primary.address, String(s.port));
      });
    },
    async verify(ctx) {
      let last: Awaited<ReturnType<typeof inspect>> | undefined;
      const ok = await settle(async () => {
        last = await inspect(ctx);
        return last.linked && last.repl.master_link_status === 'up';
      }, options.settleMs);
      if (!ok || !last) {
        throw new ActionError('verify-failed', `${replica.name}: Redis is ${last?.repl.role ?? 'unknown'}${last?.linked ? `, link to ${primary.name} ${last.repl.master_link_status}` : `, not a replica of ${primary.name}`}`);
      }
      if (last.before !== last.after) throw new ActionError('verify-failed', `${replica.name}: ${last.configFile} does not hold lifeboat's replication block`);
    },
  };
}
