/**
 * A throwaway, real Redis server (Debian's redis-server) for tests: 127.0.0.1 at a free
 * port, no persistence, working folder in a temp dir. `stop()` ends it by its pid and
 * removes the folder; call it in `after()` so it runs on failure too.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, stopChild, waitFor } from './mariadb.ts';

export interface RedisServer {
  port: number;
  dir: string;
  pid: number;
  stop(): Promise<void>;
}

export async function startRedis(args: string[] = []): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'lifeboat-redis-'));
  let child: ChildProcess | undefined;
  try {
    const port = await freePort();
    child = spawn('redis-server', [
      '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--daemonize', 'no',
      '--save', '', '--appendonly', 'no', '--logfile', join(dir, 'redis.log'), ...args,
    ], { stdio: 'ignore' });
    const started = child;
    await waitFor(async () => {
      if (started.exitCode !== null) throw new Error(`redis-server exited with ${started.exitCode}`);
      const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, connectTimeout: 500, maxRetriesPerRequest: 0, retryStrategy: () => null });
      client.on('error', () => undefined); // refused while starting: the probe retries
      try {
        await client.connect();
        await client.ping();
      } finally {
        client.disconnect();
      }
    }, 15_000);
    return {
      port, dir, pid: started.pid ?? -1,
      stop: async () => {
        await stopChild(started, 10_000);
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    if (child) await stopChild(child, 10_000);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
