// Redis switch-over against two real redis-server instances on 127.0.0.1 (test/support/redis.ts).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { Redis } from 'ioredis';
import { ActionError, renderChange } from '../../src/actions/action.ts';
import { promoteRedis, redisRole, replicaOf } from '../../src/actions/redis.ts';
import { startRedis, type RedisServer } from '../support/redis.ts';
import { freePort, localContext, tempDir, testFleet, waitFor } from './support.ts';

let primary: RedisServer;
let replica: RedisServer;
let onPrimary: Redis;
let onReplica: Redis;
const ctx = localContext(testFleet({ redis: { port: 6379 } }));

before(async () => {
  primary = await startRedis();
  replica = await startRedis();
  onPrimary = new Redis({ host: '127.0.0.1', port: primary.port, lazyConnect: true, maxRetriesPerRequest: 0 });
  onReplica = new Redis({ host: '127.0.0.1', port: replica.port, lazyConnect: true, maxRetriesPerRequest: 0 });
  await Promise.all([onPrimary.connect(), onReplica.connect()]);
  // Redis 7 waits 5 s before a diskless full sync by default; the lab sets 0 as well.
  await onPrimary.config('SET', 'repl-diskless-sync-delay', '0');
  await onReplica.config('SET', 'repl-diskless-sync-delay', '0');
});
after(async () => {
  onPrimary?.disconnect();
  onReplica?.disconnect();
  await Promise.all([primary?.stop(), replica?.stop()]);
});

test('replicaOf makes a server follow the primary, verified by its link; twice is harmless', async () => {
  const options = { port: replica.port };
  const action = replicaOf('app', '127.0.0.1', primary.port, options);
  assert.match((await action.plan(ctx)).map(renderChange).join('\n'), new RegExp(`now primary[^]*REPLICAOF 127\\.0\\.0\\.1 ${primary.port}`));
  await assert.rejects(action.verify(ctx), (e) => e instanceof ActionError && e.code === 'verify-failed');
  await onPrimary.set('session:1', 'alice');
  await action.apply(ctx);
  await action.verify(ctx);
  await action.apply(ctx);
  await waitFor(async () => (await onReplica.get('session:1')) === 'alice');
  const role = await redisRole(ctx, 'app', options);
  assert.equal(role.role, 'replica');
  assert.deepEqual(role.source, { host: '127.0.0.1', port: primary.port, linkUp: true, syncing: false });
});

test('promoteRedis keeps the data, takes writes, is idempotent, and undo follows the old primary again', async (t) => {
  const options = { port: replica.port };
  await onPrimary.set('session:2', 'bob');
  await waitFor(async () => (await onReplica.get('session:2')) === 'bob');
  const action = promoteRedis('app', options);
  await assert.rejects(action.verify(ctx), (e) => e instanceof ActionError && e.code === 'verify-failed');
  const started = performance.now();
  await action.apply(ctx);
  await action.verify(ctx);
  t.diagnostic(`promotion took ${Math.round(performance.now() - started)} ms`);
  await action.apply(ctx);
  assert.equal(await onReplica.get('session:2'), 'bob');
  await onReplica.set('session:3', 'carol');
  await action.undo!(ctx);
  await replicaOf('app', '127.0.0.1', primary.port, options).verify(ctx);
});

test('an unreachable Redis fails within about a second with a precondition error', async () => {
  const started = performance.now();
  await assert.rejects(promoteRedis('app', { port: 1 }).apply(ctx), (e) => e instanceof ActionError && e.code === 'precondition');
  assert.ok(performance.now() - started < 3000);
});

test('promotion is written into redis.conf when the server runs from one, so a restart stays primary', async () => {
  const work = await tempDir('redis-conf');
  const port = await freePort();
  const conf = `${work.dir}/redis.conf`;
  await writeFile(conf, `# a replica set up by hand\nport ${port}\nbind 127.0.0.1\ndir ${work.dir}\nsave ""\nappendonly no\nreplicaof 127.0.0.1 ${primary.port}\n`);
  const child = spawn('redis-server', [conf, '--daemonize', 'no'], { stdio: 'ignore' });
  try {
    const options = { port };
    await waitFor(async () => (await redisRole(ctx, 'app', options)).role === 'replica');
    await promoteRedis('app', options).apply(ctx);
    const text = await readFile(conf, 'utf8');
    assert.doesNotMatch(text, /^replicaof/m);
    assert.match(text, /# a replica set up by hand/);
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
    await work.cleanup();
  }
});
