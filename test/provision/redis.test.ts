// provisionRedis against a real redis-server on 127.0.0.1: a temp folder stands for the bare
// machine's /etc/redis, /var/lib/redis, /run/redis and /var/log/redis; the fleet's
// `redis.driver` is a `command` driver that starts redis-server as the lab's hosts do.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ActionError } from '../../src/actions/action.ts';
import { provisionRedis, type RedisPaths } from '../../src/actions/provision/redis.ts';
import { freePort, localContext, testFleet } from '../actions/support.ts';

const PASSWORD = 'pa ss"w\\rd';
let dir = '';
let paths: RedisPaths;
let port = 0;

function fleet() {
  return testFleet({
    machines: [{ name: 'cache1', address: '127.0.0.1', roles: ['spare'] }],
    redis: {
      port,
      password: 'env:REDIS_PW',
      driver: {
        type: 'command',
        start: `setsid -f setpriv --reuid=redis --regid=redis --clear-groups /usr/bin/redis-server ${paths.config} >>${dir}/stdout.log 2>&1 </dev/null`,
        stop: `p=$(cat ${paths.pidFile}) && kill -TERM "$p" && i=0 && while kill -0 "$p" 2>/dev/null; do i=$((i+1)); [ $i -ge 100 ] && exit 1; sleep 0.1; done`,
        status: `p=$(cat ${paths.pidFile} 2>/dev/null) && [ -n "$p" ] && kill -0 "$p" 2>/dev/null`,
      },
    },
  });
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lifeboat-provision-redis-'));
  await chmod(dir, 0o755);
  paths = {
    config: join(dir, 'etc', 'redis.conf'),
    dropIn: join(dir, 'etc', 'lifeboat.conf'),
    dataDir: join(dir, 'data'),
    pidFile: join(dir, 'run', 'redis-server.pid'),
    logFile: join(dir, 'log', 'redis-server.log'),
  };
  port = await freePort();
});

after(async () => {
  const pid = Number((await readFile(paths.pidFile, 'utf8').catch(() => '')).trim());
  if (pid > 0) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
    for (let i = 0; i < 50; i++) {
      try {
        process.kill(pid, 0);
      } catch {
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await rm(dir, { recursive: true, force: true });
});

test('provisionRedis configures and starts Redis on a bare machine; verify PINGs with the password', async () => {
  const ctx = localContext(fleet(), { 'env:REDIS_PW': PASSWORD });
  const action = provisionRedis('cache1', { paths });
  const plan = JSON.stringify(await action.plan(ctx));
  assert.match(plan, /requirepass \\"\*\*\*\\"/, 'masked, quotes kept');
  assert.ok(!plan.includes('pa ss'), 'the plan never shows the password');
  assert.match(plan, new RegExp(`\\+port ${port}`));
  await assert.rejects(stat(paths.dropIn), { code: 'ENOENT' }, 'plan changed nothing');
  await assert.rejects(action.verify(ctx), (e) => e instanceof ActionError && e.code === 'verify-failed');

  await action.apply(ctx);
  await action.verify(ctx);
  assert.equal((await stat(paths.dropIn)).mode & 0o777, 0o640);
  assert.match(await readFile(paths.config, 'utf8'), new RegExp(`include ${paths.dropIn}\\n$`));

  const pid = (await readFile(paths.pidFile, 'utf8')).trim();
  await action.apply(ctx);
  assert.equal((await readFile(paths.pidFile, 'utf8')).trim(), pid, 're-applying does not restart');

  const wrong = localContext(fleet(), { 'env:REDIS_PW': 'nope' });
  await assert.rejects(action.verify(wrong), (e) => e instanceof ActionError && e.code === 'verify-failed');
});

test('a second address makes provisionRedis restart Redis, and verify checks what it binds', async () => {
  const ctx = localContext(fleet(), { 'env:REDIS_PW': PASSWORD });
  const wider = provisionRedis('cache1', { paths, bind: ['127.0.0.1', '127.0.0.2'] });
  await assert.rejects(wider.verify(ctx), (e) => e instanceof ActionError && /bind is "127\.0\.0\.1"/.test(e.message));
  await wider.apply(ctx);
  await wider.verify(ctx);
  assert.ok(ctx.logs.some((l) => /restarted/.test(l)));
});
