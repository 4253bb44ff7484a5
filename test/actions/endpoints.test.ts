/**
 * Stable endpoints against a real HAProxy (Debian's haproxy, run here on loopback): two
 * loopback TCP servers stand for the old and the new primary. The switch moves new
 * connections through the runtime API, closes the sessions still open to the old one, and
 * records the new place in the config; `prepare`'s part points a service at the endpoints and
 * restarts it once, and a recovery trusts the endpoints only while the service uses them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ActionError, renderChange } from '../../src/actions/action.ts';
import { endpointsInUse, pointServicesAtEndpoints, readLive, renderEndpointsConfig, switchEndpoints, type LiveAddresses } from '../../src/actions/endpoints.ts';
import { freePort, localContext, tempDir, testFleet, waitFor } from './support.ts';

const skip = process.getuid?.() !== 0 ? 'needs root (HAProxy drops to the haproxy user)' : false;

/** A server that greets every connection with its name and keeps it open. */
async function namedServer(name: string): Promise<{ server: Server; port: number }> {
  const port = await freePort();
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.write(`${name}\n`);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { server, port };
}

/** Connects to `port` and resolves the greeting; the socket stays open for the caller. */
function greeting(port: number): Promise<{ name: string; socket: Socket }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => { socket.destroy(); reject(new Error('no greeting within 2 s')); }, 2000);
    socket.once('error', (e) => { clearTimeout(timer); reject(e); });
    socket.once('data', (d) => { clearTimeout(timer); resolve({ name: d.toString().trim(), socket }); });
  });
}

describe('stable endpoints on a real HAProxy', { skip }, () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let haproxy: ChildProcess | undefined;
  let oldPrimary: Awaited<ReturnType<typeof namedServer>>;
  let newPrimary: Awaited<ReturnType<typeof namedServer>>;
  let redis: Awaited<ReturnType<typeof namedServer>>;
  let databasePort: number;
  let redisPort: number;
  let fleet: ReturnType<typeof testFleet>;
  const live = (database: number): LiveAddresses => ({ database: { host: '127.0.0.1', port: database }, redis: { host: '127.0.0.1', port: redis.port } });

  before(async () => {
    work = await tempDir('endpoints');
    [oldPrimary, newPrimary, redis] = await Promise.all([namedServer('old'), namedServer('new'), namedServer('redis')]);
    [databasePort, redisPort] = [await freePort(), await freePort()];
    await mkdir(join(work.dir, 'api'), { recursive: true });
    fleet = testFleet({
      machines: [{ name: 'app', address: '127.0.0.1', roles: ['app', 'db-primary', 'redis'] }],
      services: {
        api: {
          roles: ['app'], dir: join(work.dir, 'api'),
          // A service whose every restart leaves a line in a file, and that always runs.
          driver: { type: 'command', start: `echo start >> ${join(work.dir, 'restarts')}`, stop: 'true', status: 'true' },
        },
        // Not bound to anything, and not running.
        worker: { roles: ['app'], dir: join(work.dir, 'worker'), driver: { type: 'command', start: 'true', stop: 'true', status: 'exit 3' } },
      },
      bindings: [{ service: 'api', file: join(work.dir, 'api/config.yaml'), format: 'yaml', keys: { 'db.host': 'mysql-host', 'db.port': 'mysql-port', 'cache.address': 'redis-address' } }],
      database: {
        schema: 'shop', user: 'shop', password: 'env:DB', adminPassword: 'env:ADMIN', port: oldPrimary.port,
        domainTable: { name: 'dns', domainColumn: 'd', ipColumn: 'i', statusColumn: 's', online: 1, offline: 2 },
      },
      redis: { port: redis.port },
      endpoints: { databasePort, redisPort, config: join(work.dir, 'endpoints.cfg'), socket: join(work.dir, 'endpoints.sock'), haproxy: '/usr/sbin/haproxy' },
    });
    await writeFile(join(work.dir, 'api/config.yaml'), `db:\n  host: 198.51.100.12 # the primary\n  port: 3306\ncache:\n  address: 198.51.100.12:6379\n`);
  });

  after(async () => {
    haproxy?.kill('SIGTERM');
    await Promise.all([oldPrimary, newPrimary, redis].map((s) => new Promise((resolve) => s?.server.close(resolve))));
    await work?.cleanup();
  });

  test('the config is written before HAProxy runs; the runtime API then answers with where it forwards', async () => {
    const ctx = localContext(fleet);
    const first = switchEndpoints('app', live(oldPrimary.port), { mayBeStopped: true });
    await first.apply(ctx);
    await first.verify(ctx);
    const text = await readFile(fleet.endpoints!.config, 'utf8');
    assert.equal(text, renderEndpointsConfig('app', fleet.endpoints!, live(oldPrimary.port)));
    assert.match(text, new RegExp(`bind 127\\.0\\.0\\.1:${databasePort}\\n    server live 127\\.0\\.0\\.1:${oldPrimary.port}`));
    // A recovery requires HAProxy running: without it the switch cannot verify its effect.
    await assert.rejects(switchEndpoints('app', live(oldPrimary.port)).verify(ctx), (e) => e instanceof ActionError && /runtime API/.test(e.message));

    haproxy = spawn('/usr/sbin/haproxy', ['-db', '-f', fleet.endpoints!.config], { stdio: 'ignore' });
    await waitFor(async () => (await readLive(ctx, 'app')).size === 2, 5000);
    assert.deepEqual(Object.fromEntries(await readLive(ctx, 'app')), { mariadb: { host: '127.0.0.1', port: oldPrimary.port }, redis: { host: '127.0.0.1', port: redis.port } });
    assert.equal((await greeting(databasePort)).name, 'old');
  });

  test('a switch moves new connections at once, closes the ones still open to the old primary, and is recorded', async () => {
    const ctx = localContext(fleet);
    const held = await greeting(databasePort);
    assert.equal(held.name, 'old');
    const closed = new Promise<void>((resolve) => held.socket.once('close', () => resolve()));
    const toRedis = await greeting(redisPort);

    const action = switchEndpoints('app', live(newPrimary.port));
    const plan = (await action.plan(ctx)).map(renderChange).join('\n');
    assert.match(plan, new RegExp(`set server mariadb/live addr 127\\.0\\.0\\.1 port ${newPrimary.port}`));
    assert.match(plan, /shutdown sessions server mariadb\/live/);
    assert.doesNotMatch(plan, /redis\/live/, 'Redis stays where it is: nothing to switch there');
    await assert.rejects(action.verify(ctx), (e) => e instanceof ActionError && e.code === 'verify-failed');

    await action.apply(ctx);
    await action.verify(ctx);
    await closed; // pooled connections to the old primary are closed, so they reconnect
    assert.equal((await greeting(databasePort)).name, 'new');
    assert.equal(toRedis.socket.destroyed, false, "the Redis endpoint's sessions are left alone");
    toRedis.socket.destroy();
    assert.match(await readFile(fleet.endpoints!.config, 'utf8'), new RegExp(`server live 127\\.0\\.0\\.1:${newPrimary.port}`));
    // Applied again (a resumed run): nothing to change, nothing closed.
    assert.deepEqual(await action.plan(ctx), []);
    await action.apply(ctx);
    await action.verify(ctx);
  });

  test('prepare points the service at the endpoints and restarts it once; recoveries trust the endpoints only while it uses them', async () => {
    const ctx = localContext(fleet);
    const restarts = async () => (await readFile(join(work.dir, 'restarts'), 'utf8').catch(() => '')).split('\n').filter(Boolean).length;
    assert.deepEqual(await endpointsInUse(ctx, 'app'), { inUse: false, why: `${fleet.bindings[0]!.file} does not point at the endpoints` });

    const point = pointServicesAtEndpoints('app');
    const plan = (await point.plan(ctx)).map(renderChange).join('\n');
    assert.match(plan, /\+  host: 127\.0\.0\.1/);
    assert.match(plan, /restart api once/);
    await point.apply(ctx);
    await point.verify(ctx);
    assert.equal(await restarts(), 1);
    const config = await readFile(fleet.bindings[0]!.file, 'utf8');
    assert.match(config, new RegExp(`host: 127\\.0\\.0\\.1 # the primary\\n  port: ${databasePort}\\ncache:\\n  address: 127\\.0\\.0\\.1:${redisPort}`));
    assert.deepEqual(await endpointsInUse(ctx, 'app'), { inUse: true, why: 'the endpoints answer and the services use them' });
    assert.equal((await endpointsInUse(ctx, 'app', ['api'])).inUse, true);
    // A service that must take over but does not run: not switched, restarted (which starts it).
    assert.deepEqual(await endpointsInUse(ctx, 'app', ['api', 'worker']), { inUse: false, why: 'worker is stopped' });

    // A second prepare changes nothing and restarts nothing.
    assert.deepEqual(await point.plan(ctx), []);
    await point.apply(ctx);
    assert.equal(await restarts(), 1);

    // The binding file changed behind the service's back (a deploy): not trusted until restarted.
    await writeFile(fleet.bindings[0]!.file, `${config}# edited\n`);
    const edited = await endpointsInUse(ctx, 'app');
    assert.equal(edited.inUse, false);
    assert.match(edited.why, /not restarted since their bindings last changed/);
    await assert.rejects(point.verify(ctx), (e) => e instanceof ActionError && e.code === 'verify-failed');
    await point.apply(ctx);
    assert.equal(await restarts(), 2);
    assert.equal((await endpointsInUse(ctx, 'app')).inUse, true);

    // HAProxy gone: the endpoints are not in use, with the reason.
    haproxy?.kill('SIGTERM');
    await waitFor(async () => !(await endpointsInUse(ctx, 'app')).inUse, 5000);
    assert.match((await endpointsInUse(ctx, 'app')).why, /runtime API .* does not answer/);
  });
});
