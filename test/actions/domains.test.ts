// setDomainsStatus against a real mariadbd (test/support/mariadb.ts) over TCP on 127.0.0.1.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Connection } from 'mysql2/promise';
import { ActionError, renderChange } from '../../src/actions/action.ts';
import { bringDomainsOnline, readDomainList, setDomainsStatus } from '../../src/actions/domains.ts';
import { startMariadb, type MariadbServer } from '../support/mariadb.ts';
import { localContext, testFleet } from './support.ts';
import { adminAccount } from './support-db.ts';

let server: MariadbServer;
let db: Connection;
let ctx: ReturnType<typeof localContext>;
let password: string;

before(async () => {
  server = await startMariadb();
  const admin = await adminAccount(server);
  db = await admin.root();
  await db.query('CREATE DATABASE speed');
  await db.query('CREATE TABLE speed.t_app_dns (id INT AUTO_INCREMENT PRIMARY KEY, domain VARCHAR(255) NOT NULL, ip VARCHAR(64) NOT NULL, status TINYINT NOT NULL)');
  await db.query('INSERT INTO speed.t_app_dns (domain, ip, status) VALUES (?, ?, 1), (?, ?, 1), (?, ?, 2), (?, ?, 1)', [
    'eigrrht.xyz', '198.51.100.20', 'siaax.xyz', '198.51.100.20', 'old.xyz', '198.51.100.20', 'beiyo.xyz', '198.51.100.21',
  ]);
  ctx = localContext(
    testFleet({
      database: {
        schema: 'speed', port: server.port, user: 'speed', password: 'env:APP_PW', adminUser: admin.user, adminPassword: 'env:ADMIN_PW',
        domainTable: { name: 't_app_dns', domainColumn: 'domain', ipColumn: 'ip', statusColumn: 'status', online: 1, offline: 2 },
      },
    }),
    { 'env:ADMIN_PW': admin.password },
  );
  password = admin.password;
});
after(async () => {
  await db?.end();
  await server?.stop();
});

async function statuses(): Promise<Record<string, number>> {
  const [rows] = await db.query('SELECT domain, status FROM speed.t_app_dns ORDER BY id');
  return Object.fromEntries((rows as { domain: string; status: number }[]).map((r) => [r.domain, r.status]));
}

test('offline: plan shows parameterised SQL and the rows; apply commits after checking; verify re-selects; twice is harmless; undo restores', async () => {
  const action = setDomainsStatus('app', '198.51.100.20', 'offline');
  const plan = (await action.plan(ctx)).map(renderChange).join('\n');
  assert.match(plan, /SQL UPDATE `speed`\.`t_app_dns` SET `status` = \? WHERE `ip` = \? AND `status` <> \?  -- params: \[2,"198\.51\.100\.20",2\]/);
  assert.match(plan, /3 domain\(s\) on 198\.51\.100\.20; 2 would change: eigrrht\.xyz, siaax\.xyz/);
  assert.doesNotMatch(plan, new RegExp(password));
  await assert.rejects(action.verify(ctx), (e) => e instanceof ActionError && e.code === 'verify-failed');

  await action.apply(ctx);
  await action.verify(ctx);
  assert.deepEqual(await statuses(), { 'eigrrht.xyz': 2, 'siaax.xyz': 2, 'old.xyz': 2, 'beiyo.xyz': 1 });
  await action.apply(ctx);
  assert.deepEqual(ctx.logs.slice(-1), ['app: 0 of 3 domain(s) on 198.51.100.20 set offline']);

  await action.undo!(ctx);
  assert.deepEqual(await statuses(), { 'eigrrht.xyz': 1, 'siaax.xyz': 1, 'old.xyz': 2, 'beiyo.xyz': 1 });
});

test('a value that looks like SQL is only ever a parameter', async () => {
  const action = setDomainsStatus('app', "x' OR '1'='1", 'offline');
  await action.apply(ctx);
  assert.deepEqual(await statuses(), { 'eigrrht.xyz': 1, 'siaax.xyz': 1, 'old.xyz': 2, 'beiyo.xyz': 1 });
});

test('an unreachable database fails apply with a precondition error and no password in it', async () => {
  const dead = localContext(
    testFleet({ database: { ...ctx.fleet.database!, port: 1 } }),
    { 'env:ADMIN_PW': password },
  );
  await assert.rejects(setDomainsStatus('app', '198.51.100.20', 'offline').apply(dead), (e) =>
    e instanceof ActionError && e.code === 'precondition' && !e.message.includes(password));
});

test('the domain list as the apps read it: every row, its state in the fleet\'s terms', async () => {
  await db.query("UPDATE speed.t_app_dns SET status = CASE domain WHEN 'old.xyz' THEN 2 WHEN 'beiyo.xyz' THEN 7 ELSE 1 END");
  const rows = await readDomainList(ctx, 'app');
  assert.deepEqual(rows, [
    { domain: 'beiyo.xyz', ip: '198.51.100.21', state: 'other' },
    { domain: 'eigrrht.xyz', ip: '198.51.100.20', state: 'online' },
    { domain: 'old.xyz', ip: '198.51.100.20', state: 'offline' },
    { domain: 'siaax.xyz', ip: '198.51.100.20', state: 'online' },
  ]);
});

test('a new edge\'s domains online at its address: missing rows inserted, offline ones moved, one online elsewhere refused with nothing changed; undo puts the rows back', async () => {
  await db.query("UPDATE speed.t_app_dns SET status = CASE domain WHEN 'old.xyz' THEN 2 ELSE 1 END");
  const rows = async () => {
    const [r] = await db.query('SELECT domain, ip, status FROM speed.t_app_dns ORDER BY domain');
    return (r as { domain: string; ip: string; status: number }[]).map((x) => `${x.domain} ${x.ip} ${x.status}`);
  };
  const start = await rows();
  // old.xyz is offline at .20: it may move; fresh.xyz has no row yet.
  const action = bringDomainsOnline('app', '198.51.100.30', ['old.xyz', 'fresh.xyz']);
  const plan = (await action.plan(ctx)).map(renderChange).join('\n');
  assert.match(plan, /INSERT INTO `speed`\.`t_app_dns` \(`domain`, `ip`, `status`\) VALUES \(\?, \?, \?\)  -- params: \["fresh\.xyz","198\.51\.100\.30",1\]/);
  assert.match(plan, /UPDATE `speed`\.`t_app_dns` SET `ip` = \?, `status` = \? WHERE `domain` = \?  -- params: \["198\.51\.100\.30",1,"old\.xyz"\]/);
  assert.deepEqual(await rows(), start, 'a plan changes nothing');
  await assert.rejects(action.verify(ctx), (e) => e instanceof ActionError && e.code === 'verify-failed');
  await action.apply(ctx);
  await action.verify(ctx);
  assert.deepEqual((await readDomainList(ctx, 'app')).filter((r) => r.ip === '198.51.100.30'), [
    { domain: 'fresh.xyz', ip: '198.51.100.30', state: 'online' },
    { domain: 'old.xyz', ip: '198.51.100.30', state: 'online' },
  ]);
  await action.apply(ctx);
  assert.deepEqual(ctx.logs.slice(-1), ['app: 0 of 2 domain(s) put online at 198.51.100.30'], 'twice is harmless');
  await action.undo!(ctx);
  assert.deepEqual(await rows(), start, 'undo: the inserted row gone, the moved one back');

  // beiyo.xyz serves users at .21: moving it would take it from that machine.
  const taken = bringDomainsOnline('app', '198.51.100.30', ['fresh.xyz', 'beiyo.xyz']);
  assert.match((await taken.plan(ctx)).map(renderChange).join('\n'), /refused: domain list: beiyo\.xyz is online at 198\.51\.100\.21/);
  await assert.rejects(taken.apply(ctx), (e) => e instanceof ActionError && e.code === 'precondition' && /beiyo\.xyz is online at 198\.51\.100\.21/.test(e.message));
  assert.deepEqual(await rows(), start, 'refused: not even fresh.xyz was inserted');
});
