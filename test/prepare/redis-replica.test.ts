/** `prepare`'s Redis part against two real redis-servers with a password and config files. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runRecovery } from '../../src/recovery/engine.ts';
import { Journal } from '../../src/recovery/journal.ts';
import { prepareReport } from '../../src/prepare/report.ts';
import { prepareScenario } from '../../src/prepare/scenario.ts';
import { freePort } from '../support/mariadb.ts';
import { BACKUP, PRIMARY, SECRETS, tempDir, testContext, testFleet } from './support.ts';
import { startConfiguredRedis, type ConfiguredRedis } from './support-redis.ts';

const PASSWORD = 'redispw';
let primary: ConfiguredRedis | undefined;
let backup: ConfiguredRedis | undefined;
let tmp: Awaited<ReturnType<typeof tempDir>>;

before(async () => {
  tmp = await tempDir('lifeboat-prepare-redis-');
  const port = await freePort();
  primary = await startConfiguredRedis(PRIMARY, port, PASSWORD);
  backup = await startConfiguredRedis(BACKUP, port, PASSWORD);
  SECRETS['env:REDIS_PW'] = PASSWORD;
});

after(async () => {
  await Promise.allSettled([primary?.stop(), backup?.stop()]);
  await tmp?.remove();
});

test('the backup Redis becomes a replica (live and in redis.conf), and a second prepare changes nothing', async () => {
  const fleet = testFleet({ redisPort: primary!.port });
  fleet.redis!.password = 'env:REDIS_PW';
  const journal = Journal.open(join(tmp.dir, 'state.db'));
  const p = primary!.client();
  const b = backup!.client();
  try {
    await p.connect();
    await b.connect();
    await p.set('session:1', 'alice');
    await b.set('stale', 'x');
    const scenario = prepareScenario({ settleMs: 10_000 });
    const plan = await runRecovery({ scenario, input: { failed: '', parts: ['redis'] }, ctx: testContext(fleet), mode: 'plan', journal });
    const planned = plan.steps.flatMap((s) => s.changes);
    assert.ok(planned.some((c) => c.kind === 'command' && c.command.includes(`REPLICAOF ${PRIMARY}`)), JSON.stringify(planned));
    assert.ok(!JSON.stringify(planned).includes(PASSWORD), 'the plan never shows the password');
    assert.equal(await b.get('stale'), 'x', 'plan changed nothing');

    const run = await runRecovery({ scenario, input: { failed: '', parts: ['redis'] }, ctx: testContext(fleet), mode: 'auto', journal });
    assert.equal(run.outcome, 'recovered', run.error ?? '');
    assert.equal(await b.get('session:1'), 'alice');
    assert.equal(await b.get('stale'), null);
    await p.set('session:2', 'bob');
    const deadline = Date.now() + 5000;
    while ((await b.get('session:2')) !== 'bob' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(await b.get('session:2'), 'bob');
    const conf = await readFile(backup!.configFile, 'utf8');
    assert.match(conf, new RegExp(`^replicaof ${PRIMARY.replace(/\./g, '\\.')} ${primary!.port}$`, 'm'));
    assert.match(conf, /^masterauth redispw$/m);
    assert.match(conf, /^port \d+$/m, 'the rest of redis.conf is kept');

    const again = await runRecovery({ scenario, input: { failed: '', parts: ['redis'] }, ctx: testContext(fleet), mode: 'auto', journal });
    assert.equal(again.outcome, 'recovered', again.error ?? '');
    assert.deepEqual(prepareReport(again).changed, []);
  } finally {
    p.disconnect();
    b.disconnect();
    journal.close();
  }
});
