/**
 * Provisioning a bare lab spare, end to end, as §4.2 step 5 and §4.4 do it: MariaDB (as a
 * replica-to-be), Redis and a copy of the primary's /wwwroot on `spare-1`, and a new edge
 * on `spare-2` built from `edge-1`. The derived fleet gets the lab's own start/stop commands
 * (labServerDrivers) as its database/redis/nginx drivers; every verify is the action's own
 * real check, and the users' vantage (the lab's client host) reaches the new edge.
 */
import assert from 'node:assert/strict';
import { dirname } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ActionError, type ActionContext } from '../../src/actions/action.ts';
import { copyTree } from '../../src/actions/files.ts';
import { provisionEdge, provisionMariadb, provisionRedis } from '../../src/actions/provision/index.ts';
import { loadFleet } from '../../src/fleet/load.ts';
import { secretResolver } from '../../src/fleet/secrets.ts';
import { Lab } from '../../src/lab/lab.ts';
import { labServerDrivers } from '../../src/lab/server-drivers.ts';
import { canRunLab, EXAMPLE_FLEET, forceDown, randomLabId } from '../lab/helpers.ts';

const skip = canRunLab();

describe('provisioning lab spares', { skip }, () => {
  const id = randomLabId();
  let lab: Lab;
  let ctx: ActionContext;
  const logs: string[] = [];

  before(async () => {
    lab = await Lab.up({ id, fleetFile: EXAMPLE_FLEET });
    const fleet = await loadFleet(lab.fleetFile);
    const drivers = labServerDrivers();
    fleet.database!.driver = drivers.database;
    fleet.redis!.driver = drivers.redis;
    fleet.nginx!.driver = drivers.nginx;
    ctx = {
      fleet,
      remote: (name) => lab.remote(name),
      secret: secretResolver(process.env, dirname(lab.fleetFile)),
      log: (line) => logs.push(line),
    };
  });
  after(() => forceDown(id));

  async function run(action: ReturnType<typeof provisionMariadb>): Promise<number> {
    const t0 = performance.now();
    await action.plan(ctx);
    await action.apply(ctx);
    await action.verify(ctx);
    return Math.round(performance.now() - t0);
  }

  test('spare-1 gets MariaDB, Redis and the primary /wwwroot', async () => {
    const spare = lab.host('spare-1');
    assert.notEqual((await lab.exec('spare-1', 'test -d /var/lib/mysql/mysql')).code, 0, 'the spare starts bare');

    const mariadbMs = await run(provisionMariadb('spare-1', { serverId: 120, role: 'replica' }));
    const redisMs = await run(provisionRedis('spare-1'));
    const copyMs = await run(copyTree('primary', 'spare-1', '/wwwroot'));
    process.stdout.write(`# spare-1: mariadb ${mariadbMs} ms, redis ${redisMs} ms, /wwwroot copy ${copyMs} ms\n`);

    // From another host, over the lab network, with the fleet's app account.
    const password = await ctx.secret(ctx.fleet.database!.password);
    const login = await lab.exec('backup', `cat | mariadb --defaults-file=/dev/stdin --batch --skip-column-names -e 'SELECT @@server_id, @@read_only, DATABASE()' speed`, {
      stdin: `[client]\nuser=speed\npassword="${password.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"\nhost=${spare.address}\nport=${ctx.fleet.database!.port}\n`,
    });
    assert.equal(login.code, 0, login.stderr);
    assert.equal(login.stdout.trim(), '120\t1\tspeed');
    const ping = await lab.exec('backup', `redis-cli -h ${spare.address} -p ${ctx.fleet.redis!.port} PING`);
    assert.equal(ping.stdout.trim(), 'PONG');
    // The data folder (a root-owned mount point on the bare spare) is Redis's own now.
    const save = await lab.exec('spare-1', `redis-cli -h ${spare.address} -p ${ctx.fleet.redis!.port} SAVE`);
    assert.equal(save.stdout.trim(), 'OK', save.stderr);
    const config = await lab.exec('spare-1', 'cat /wwwroot/go/go-api/config.yaml');
    assert.equal(config.code, 0);
    assert.match(config.stdout, /database:/);

    // Applying everything again changes nothing and still verifies.
    await run(provisionMariadb('spare-1', { serverId: 120, role: 'replica' }));
    await run(provisionRedis('spare-1'));
  });

  test('spare-2 becomes an edge like edge-1 and answers the users', async () => {
    const ms = await run(provisionEdge('spare-2', 'edge-1'));
    process.stdout.write(`# spare-2 edge: ${ms} ms\n`);
    const spare = lab.host('spare-2');
    const r = await lab.exec('client', `curl -sS --max-time 3 -o /dev/null -w '%{http_code}' http://${spare.address}/lab-edge-health`);
    assert.equal(r.stdout.trim(), '200', r.stderr);
    const same = await lab.exec('spare-2', 'cat /etc/nginx/conf.d/lifeboat-upstreams.conf');
    const original = await lab.exec('edge-1', 'cat /etc/nginx/conf.d/lifeboat-upstreams.conf');
    assert.equal(same.stdout, original.stdout);
  });

  test('a site nginx -t refuses is not started on the new edge, which keeps serving', async () => {
    await lab.remote('edge-1').writeFile('/etc/nginx/conf.d/zz-broken.conf', 'this is not nginx;\n');
    const action = provisionEdge('spare-2', 'edge-1');
    await assert.rejects(action.apply(ctx), (e) => e instanceof ActionError && e.code === 'apply-failed' && /nginx -t refuses/.test(e.message));
    const r = await lab.exec('client', `curl -sS --max-time 3 -o /dev/null -w '%{http_code}' http://${lab.host('spare-2').address}/lab-edge-health`);
    assert.equal(r.stdout.trim(), '200');
  });
});
