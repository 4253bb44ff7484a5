/** Redis on hosts with the redis or redis-replica role, bound to the host's lab address. */
import { join } from 'node:path';
import { execChecked, pidAlive, waitTcp, type HostContext, type LabServer } from './context.ts';
import { putDir, putFile } from './files.ts';

function port(ctx: HostContext): number {
  return ctx.fleet.redis?.port ?? 6379;
}

export function redisConfig(ctx: HostContext): string {
  const lines = [
    "# Written by lifeboat's lab.",
    `bind ${ctx.host.address} 127.0.0.1`,
    `port ${port(ctx)}`,
    // Reached only inside the lab's namespaces; a password is set when the fleet has one.
    'protected-mode no',
    'daemonize no',
    'supervised no',
    'pidfile /run/redis/redis-server.pid',
    'logfile /var/log/redis/redis-server.log',
    'dir /var/lib/redis',
    'dbfilename dump.rdb',
    'save 60 1000',
    'appendonly no',
    'maxmemory 64mb',
  ];
  if (ctx.secrets.redisPassword) lines.push(`requirepass ${ctx.secrets.redisPassword}`, `masterauth ${ctx.secrets.redisPassword}`);
  return lines.join('\n') + '\n';
}

export const redis: LabServer = {
  name: 'redis',
  wants: (host) => host.roles.includes('redis') || host.roles.includes('redis-replica'),
  async configure(ctx) {
    // As Debian ships it: redis owns /etc/redis, so CONFIG REWRITE (a promotion that must
    // survive a restart) can put its temp file beside redis.conf.
    await putDir(join(ctx.dir, 'etc-redis'), { owner: 'redis', mode: 0o2775 });
    await putFile(join(ctx.dir, 'etc-redis', 'redis.conf'), redisConfig(ctx), { owner: 'redis', mode: 0o640 });
    await putDir(join(ctx.dir, 'var-lib-redis'), { owner: 'redis', mode: 0o750 });
    await putDir(join(ctx.dir, 'var-log', 'redis'), { owner: 'redis', mode: 0o750 });
    await putDir(join(ctx.dir, 'run', 'redis'), { owner: 'redis', mode: 0o755 });
  },
  async running(ctx) {
    return (await ctx.exec(pidAlive('/run/redis/redis-server.pid'))).code === 0;
  },
  async start(ctx) {
    await execChecked(
      ctx,
      `rm -f /run/redis/redis-server.pid; install -d -o redis -g redis /run/redis; ` +
        `setsid -f setpriv --reuid=redis --regid=redis --clear-groups /usr/bin/redis-server /etc/redis/redis.conf >>/var/log/redis/stdout.log 2>&1 </dev/null; ` +
        waitTcp(ctx.host.address, port(ctx)),
    );
  },
  async stop(ctx, how) {
    await ctx.exec(`p=$(cat /run/redis/redis-server.pid 2>/dev/null) && kill -${how === 'crash' ? 'KILL' : 'TERM'} "$p"`);
  },
};
