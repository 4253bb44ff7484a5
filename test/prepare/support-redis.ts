/**
 * A real redis-server started from a config file (as on a machine: `CONFIG`-visible
 * `config_file`, which prepare edits), bound to one loopback address and port. `stop()`
 * ends it by pid and removes its folder.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { stopChild, waitFor } from '../support/mariadb.ts';

export interface ConfiguredRedis {
  address: string;
  port: number;
  configFile: string;
  client(): Redis;
  stop(): Promise<void>;
}

export async function startConfiguredRedis(address: string, port: number, password?: string): Promise<ConfiguredRedis> {
  const dir = await mkdtemp(join(tmpdir(), 'lifeboat-redis-conf-'));
  const configFile = join(dir, 'redis.conf');
  await writeFile(configFile, [
    '# test redis', `bind ${address}`, `port ${port}`, `dir ${dir}`, 'save ""', 'appendonly no', `logfile ${join(dir, 'redis.log')}`,
    ...(password ? [`requirepass ${password}`] : []), '',
  ].join('\n'));
  const child = spawn('redis-server', [configFile], { stdio: 'ignore' });
  const client = () => new Redis({ host: address, port, ...(password ? { password } : {}), lazyConnect: true, connectTimeout: 500, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
      const c = client();
      try {
        await c.connect();
        await c.ping();
      } finally {
        c.disconnect();
      }
    }, 15_000);
  } catch (error) {
    await stopChild(child, 5000);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    address, port, configFile, client,
    stop: async () => {
      await stopChild(child, 10_000);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
