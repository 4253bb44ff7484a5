// start/stop/restart actions against a real supervisord; health checks run through the Remote.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ActionError, renderChange } from '../../src/actions/action.ts';
import { restartServices, serviceStates, startServices, stopServices } from '../../src/actions/services.ts';
import { freePort, localContext, testFleet } from './support.ts';
import { startSupervisor, type TestSupervisor } from './support-supervisor.ts';

let supervisor: TestSupervisor;
let webPort: number;
let deadPort: number;
let ctx: ReturnType<typeof localContext>;
let options: { drivers: { supervisorctl: string }; verifyWithinMs: number };

before(async () => {
  webPort = await freePort();
  deadPort = await freePort();
  const server = `node -e "require('http').createServer((q, s) => { s.statusCode = q.url === '/healthz' ? 200 : 404; s.end('ok'); }).listen(${webPort}, '127.0.0.1')"`;
  supervisor = await startSupervisor({ web: server, sleeper: 'sleep 1000' });
  options = { drivers: { supervisorctl: supervisor.supervisorctl }, verifyWithinMs: 3000 };
  ctx = localContext(
    testFleet({
      services: {
        web: { roles: ['app'], dir: '/srv/web', health: { type: 'http', port: webPort, path: '/healthz' } },
        // Runs, but nothing listens where its health check looks: verify must fail.
        sleeper: { roles: ['app'], dir: '/srv/sleeper', health: { type: 'tcp', port: deadPort } },
      },
    }),
  );
});
after(() => supervisor?.stop());

test('startServices: plan shows the command, apply starts, verify waits for the health check; twice is harmless', async (t) => {
  const action = startServices('app', ['web'], options);
  assert.deepEqual((await action.plan(ctx)).map(renderChange), [`[app] $ ${supervisor.supervisorctl} start web`]);
  await assert.rejects(action.verify(ctx), (e) => e instanceof ActionError && e.code === 'verify-failed');
  const started = performance.now();
  await action.apply(ctx);
  await action.verify(ctx);
  t.diagnostic(`start + healthy in ${Math.round(performance.now() - started)} ms`);
  await action.apply(ctx);
  assert.deepEqual(await serviceStates(ctx, 'app', ['web', 'sleeper'], options.drivers), { web: 'running', sleeper: 'stopped' });
  assert.match((await action.plan(ctx)).map(renderChange).join('\n'), /web is already running/);
});

test('restartServices restarts a running service and it answers again', async () => {
  const pidBefore = (await ctx.remote('app').run(`${supervisor.supervisorctl} pid web`)).stdout.trim();
  const action = restartServices('app', ['web'], options);
  await action.apply(ctx);
  await action.verify(ctx);
  const pidAfter = (await ctx.remote('app').run(`${supervisor.supervisorctl} pid web`)).stdout.trim();
  assert.notEqual(pidAfter, pidBefore);
  assert.equal(action.undo, undefined);
});

test('stopServices stops, verifies stopped, and undo starts again', async () => {
  const action = stopServices('app', ['web'], options);
  await action.apply(ctx);
  await action.verify(ctx);
  await action.apply(ctx);
  assert.deepEqual(await serviceStates(ctx, 'app', ['web'], options.drivers), { web: 'stopped' });
  await action.undo!(ctx);
  await startServices('app', ['web'], options).verify(ctx);
});

test('services are handled together; one that runs but fails its health check fails verify, naming only itself', async () => {
  const action = startServices('app', ['web', 'sleeper'], { ...options, verifyWithinMs: 600 });
  await action.apply(ctx);
  assert.deepEqual(await serviceStates(ctx, 'app', ['web', 'sleeper'], options.drivers), { web: 'running', sleeper: 'running' });
  await assert.rejects(action.verify(ctx), (e) =>
    e instanceof ActionError && e.code === 'verify-failed' && /sleeper runs but its health check failed: tcp 127\.0\.0\.1/.test(e.message) && !/web/.test(e.message));
  await stopServices('app', ['sleeper'], options).apply(ctx);
});

test('an unknown service name is a precondition failure', async () => {
  await assert.rejects(startServices('app', ['nope'], options).plan(ctx), (e) => e instanceof ActionError && e.code === 'precondition');
});
