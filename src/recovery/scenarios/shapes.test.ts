/**
 * Every scenario's steps on fleets unlike the seed's: one edge or three, no replica, no
 * Redis, systemd and command drivers, several services per role, services under /srv with
 * .env and JSON configs, extra folders. Building steps does no I/O, so this runs without
 * machines; it asserts which steps there are and which machines each one touches.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import type { ActionContext } from '../../actions/action.ts';
import { parseFleet } from '../../fleet/load.ts';
import type { Fleet } from '../../fleet/schema.ts';
import { withRoleChanges } from '../../fleet/role-changes.ts';
import type { Remote } from '../../remote/remote.ts';
import { flatten, rowsOf } from '../layout.ts';
import type { ScenarioInput, Step } from '../step.ts';
import { scenarioNamed } from './index.ts';

function ctxFor(fleet: Fleet): ActionContext {
  return {
    fleet,
    remote: (m): Remote => {
      throw new Error(`building steps must not reach ${m}`);
    },
    secret: async () => 'x',
    log: () => {},
  };
}

async function steps(fleet: Fleet, scenario: string, input: ScenarioInput): Promise<Array<{ title: string; machines: string[]; mutating: boolean }>> {
  const s = scenarioNamed(scenario);
  assert.ok(s, scenario);
  const built: readonly Step[] = await s.build(input, ctxFor(fleet));
  return flatten(built).flatMap(rowsOf).map((r) => ({ title: r.title, machines: [...r.machines], mutating: r.mutating }));
}

const titled = (list: Array<{ title: string }>, prefix: string) => list.find((s) => s.title.startsWith(prefix));
const has = (list: Array<{ title: string }>, text: string | RegExp) =>
  list.some((s) => (typeof text === 'string' ? s.title.includes(text) : text.test(s.title)));

const DB = `
database:
  schema: shop
  user: shop
  password: env:P
  adminPassword: env:A
  domainTable: { name: hosts, domainColumn: host, ipColumn: addr, statusColumn: state, online: 5, offline: 0 }
`;

/** One edge; primary + replica; systemd services, one singleton; Redis with a password; extras. */
const oneEdge = parseFleet(
  `version: 1
name: one-edge
machines:
  - { name: front, address: 10.1.0.1, roles: [edge], domains: [a.example] }
  - { name: main, address: 10.1.0.2, roles: [app, db-primary, redis, job], domains: [m.example] }
  - { name: standby, address: 10.1.0.3, roles: [app, db-replica, redis-replica, backup-store] }
  - { name: vault, address: 10.1.0.4, roles: [backup-store], offsite: true }
  - { name: blank, address: 10.1.0.9, roles: [spare] }
services:
  web: { roles: [app], dir: /srv/web, port: 9000, driver: { type: systemd, unit: web }, health: { type: http, port: 9000, path: /ok } }
  cron-runner: { roles: [job], dir: /srv/cron, driver: { type: systemd, unit: cron-runner }, singleton: true, priority: later }
bindings:
  - { service: web, file: /srv/web/.env, format: env, keys: { DB_HOST: mysql-host, REDIS_ADDR: redis-address } }
  - { service: cron-runner, file: /srv/cron/db.json, format: json, keys: { host: mysql-host } }
${DB}
redis: { password: env:R }
nginx:
  upstreams: [{ name: web, service: web }]
backups: { stores: [standby, vault], dumpDir: /data/dumps, installDir: /data/install, encryptionKey: env:K }
extraDirs: [{ path: /opt/scripts, roles: [app] }]
`,
  'one-edge.yaml',
);

/** Three edges; two app servers but no replica and no Redis; command drivers; several services per role. */
const noReplica = parseFleet(
  `version: 1
name: no-replica
machines:
  - { name: e1, address: 10.2.0.1, roles: [edge], domains: [one.example] }
  - { name: e2, address: 10.2.0.2, roles: [edge], domains: [two.example] }
  - { name: e3, address: 10.2.0.3, roles: [edge], domains: [three.example] }
  - { name: p, address: 10.2.0.4, roles: [app, db-primary, upload] }
  - { name: q, address: 10.2.0.5, roles: [app] }
  - { name: s, address: 10.2.0.6, roles: [backup-store] }
  - { name: fresh, address: 10.2.0.9, roles: [spare] }
services:
  api: { roles: [app], dir: /srv/api, port: 7000, driver: { type: command, start: "api start", stop: "api stop", status: "api status" } }
  admin: { roles: [app], dir: /srv/admin, port: 7001, driver: { type: command, start: "admin start", stop: "admin stop", status: "admin status" } }
  files: { roles: [upload], dir: /srv/files, port: 7002, dataDirs: [/srv/files/store], singleton: true, priority: later,
           driver: { type: command, start: "files start", stop: "files stop", status: "files status" } }
bindings:
  - { service: api, file: /srv/api/config.json, format: json, keys: { db.host: mysql-host } }
  - { service: admin, file: /srv/admin/.env, format: env, keys: { DB: mysql-host } }
  - { service: files, file: /srv/files/config.yaml, format: yaml, keys: { mysql.host: mysql-host } }
${DB}
nginx:
  upstreams: [{ name: api, service: api }, { name: admin, service: admin }, { name: files, service: files }]
backups: { stores: [s], dumpDir: /backups, installDir: /install }
`,
  'no-replica.yaml',
);

describe('scenario steps on other fleet shapes', () => {
  test('edge-down with a single edge: no edge is left to carry the traffic, and the plan says which check stops it', async () => {
    const list = await steps(oneEdge, 'edge-down', { failed: 'front' });
    const check = titled(list, 'Confirm');
    assert.ok(check, list.map((s) => s.title).join(' | '));
    assert.ok(!list.some((s) => s.mutating && s.machines.includes('front')), 'nothing is changed on the dead edge');
  });

  test('edge-down with three edges: the other two take the traffic', async () => {
    const list = await steps(noReplica, 'edge-down', { failed: 'e2' });
    const mutated = new Set(list.filter((s) => s.mutating).flatMap((s) => s.machines));
    assert.ok(!mutated.has('e2'));
    assert.ok(list.some((s) => s.machines.includes('e1')) && list.some((s) => s.machines.includes('e3')));
  });

  test('edge-down with a replacement: the spare is built like a surviving edge and serves its own domains; a spare without domains is refused', async () => {
    const withDomains: Fleet = { ...noReplica, machines: noReplica.machines.map((m) => (m.name === 'fresh' ? { ...m, domains: ['four.example'] } : m)) };
    const list = await steps(withDomains, 'edge-down', { failed: 'e2', replacement: 'fresh' });
    const order = ['Confirm fresh is a bare spare', "Take the failed edge's domains off", 'Verify the business answers through every surviving domain', 'Bring fresh into service as an edge like e1',
      "Put fresh's domains online in the domain list", "Verify the business answers through fresh's domains"];
    const at = order.map((prefix) => list.findIndex((x) => x.title.startsWith(prefix)));
    assert.ok(at.every((i, k) => i >= 0 && (k === 0 || i > at[k - 1]!)), list.map((x) => x.title).join(' | '));
    assert.deepEqual(list[at[3]!]!.machines, ['fresh', 'e1'], 'the site comes from an edge that answered');
    assert.deepEqual(list[at[4]!]!.machines, ['p'], 'the domain list is on the primary');
    assert.ok(!list.some((x) => x.mutating && x.machines.includes('e2')), 'nothing is changed on the dead edge');
    const roles = withRoleChanges(withDomains, scenarioNamed('edge-down')!.rolesAfter!({ failed: 'e2', replacement: 'fresh' }, withDomains), { run: 'r', since: 'now' });
    assert.deepEqual(roles.machines.find((m) => m.name === 'fresh')?.roles, ['edge']);
    assert.equal(roles.machines.find((m) => m.name === 'e2')?.down?.roles.join(), 'edge');
    await assert.rejects(steps(noReplica, 'edge-down', { failed: 'e2', replacement: 'fresh' }), /fresh has no domains in the fleet file: list the domains registered for it \(their A records at 10\.2\.0\.9\)/);
    await assert.rejects(steps(withDomains, 'edge-down', { failed: 'e2', replacement: 'e2' }), /is the failed edge itself/);
  });

  test('primary-down with a replica and systemd services: fence, promote, Redis, bindings, restart, then the singleton after its fence', async () => {
    const list = await steps(oneEdge, 'primary-down', {
      failed: 'main', heir: 'standby', database: { mode: 'promote', acceptDataLoss: false }, installFromArchive: ['cron-runner'],
    });
    const order = ['Fence the old primary', 'Bring the database up on standby: promote', 'Promote the Redis replica', 'Restart web', 'Make sure the old primary cannot run its singletons', 'Install cron-runner on the backup', 'Start cron-runner'];
    let last = -1;
    for (const prefix of order) {
      const at = list.findIndex((s) => s.title.startsWith(prefix));
      assert.ok(at > last, `"${prefix}" after the step before it: ${list.map((s) => s.title).join(' | ')}`);
      last = at;
    }
    const row = (prefix: string) => list.find((s) => s.title.startsWith(prefix))!;
    assert.deepEqual(row('Fence the old primary').machines, ['main']);
    assert.deepEqual(row('Bring the database up').machines, ['standby']);
    assert.ok(row('Remove the primary from the nginx').machines.includes('front'));
  });

  test('primary-down without a replica or Redis: the heir is the other app server and the newest dump is loaded', async () => {
    const list = await steps(noReplica, 'primary-down', { failed: 'p', heir: 'q', database: { mode: 'restore' }, installFromArchive: ['files'] });
    assert.ok(has(list, 'Bring the database up on q: load the newest good dump'));
    assert.ok(!has(list, /Promote the Redis|REPLICAOF/), 'no Redis steps without Redis');
    assert.ok(has(list, 'Make sure the old primary cannot run its singletons'));
    for (const edge of ['e1', 'e2', 'e3']) assert.ok(list.some((s) => s.mutating && s.machines.includes(edge)), `${edge} gets the new upstreams`);
  });

  test('primary-down refuses a run whose decisions are missing instead of guessing them', async () => {
    await assert.rejects(steps(oneEdge, 'primary-down', { failed: 'main' }), /no complete decisions/);
  });

  test("backup-down with a spare copies the failed machine's service and extra folders, not /wwwroot", async () => {
    const list = await steps(oneEdge, 'backup-down', { failed: 'standby', replacement: 'blank' });
    const copy = titled(list, 'Copy ');
    assert.ok(copy, list.map((s) => s.title).join(' | '));
    assert.match(copy.title, /\/srv\/web, \/opt\/scripts from the primary to blank/);
    assert.ok(!list.some((s) => /wwwroot|\/shell/.test(s.title)), list.map((s) => s.title).join(' | '));
  });

  test('backup-down with a spare builds it as the standby: MariaDB and Redis installed first, then prepare for the fleet where it is the replica', async () => {
    const list = await steps(oneEdge, 'backup-down', { failed: 'standby', replacement: 'blank' });
    const titles = list.map((s) => s.title);
    const install = titles.findIndex((t) => t === 'Install MariaDB and Redis on blank');
    const start = titles.findIndex((t) => t.startsWith('Start only web on blank'));
    const seed = titles.findIndex((t) => /blank/.test(t) && /replica/i.test(t) && /seed|copy|replicat/i.test(t));
    const semi = titles.findIndex((t) => t.startsWith('Turn on semi-sync on main'));
    assert.ok(install >= 0 && install < start, titles.join(' | '));
    assert.ok(seed > start && semi > seed, `the replica is seeded after the services run, semi-sync after it: ${titles.join(' | ')}`);
    assert.ok(titles.includes('Make Redis on blank a replica of main'), titles.join(' | '));
    assert.deepEqual(list.filter((s) => s.machines.includes('standby') && s.mutating).map((s) => s.title), [], 'nothing acts on the failed machine');
    const roles = scenarioNamed('backup-down')!.rolesAfter!({ failed: 'standby', replacement: 'blank' }, oneEdge);
    // standby was a backup store: blank takes its place in backups.stores, with the role.
    assert.deepEqual(roles, [{ machine: 'blank', roles: ['app', 'db-replica', 'redis-replica', 'backup-store'] }, { machine: 'blank', storeInPlaceOf: 'standby' }, { machine: 'standby', down: true }]);
    assert.deepEqual(withRoleChanges(oneEdge, roles, { run: 'r', since: 'now' }).backups?.stores, ['blank', 'vault']);
    assert.ok(titles.includes('Binary log shipping to blank'), `the binary log is shipped to the new store: ${titles.join(' | ')}`);
  });

  test('primary-down with --new-backup: after the failover the spare is built into the backup the heir was, from the heir', async () => {
    const input = { failed: 'main', heir: 'standby', newBackup: 'blank', database: { mode: 'promote', acceptDataLoss: false }, installFromArchive: ['cron-runner'] };
    const list = await steps(oneEdge, 'primary-down', input);
    const titles = list.map((s) => s.title);
    const at = (prefix: string) => titles.findIndex((t) => t.startsWith(prefix));
    assert.ok(at('Confirm blank is a bare spare') >= 0 && at('Confirm blank is a bare spare') < at('Fence the old primary'), 'the spare is checked before anything changes');
    const order = ['Bring the database up on standby', 'Verify the business answers', 'Install MariaDB and Redis on blank', 'Copy /srv/web, /opt/scripts from the primary to blank',
      'Point web on blank at the primary', 'Start only web on blank', 'Seed blank from standby', 'Turn on semi-sync on standby', 'Make Redis on blank a replica of standby'];
    let last = -1;
    for (const prefix of order) {
      assert.ok(at(prefix) > last, `"${prefix}" after the step before it: ${titles.join(' | ')}`);
      last = at(prefix);
    }
    assert.deepEqual(list[at('Copy /srv/web')]!.machines, ['standby', 'blank'], 'copied from the new primary');
    assert.ok(!list.some((s) => s.mutating && s.machines.includes('main') && !/Fence|singletons/.test(s.title)), `nothing but the fences acts on the failed primary: ${list.filter((s) => s.mutating && s.machines.includes('main')).map((s) => s.title).join(' | ')}`);
    const roles = scenarioNamed('primary-down')!.rolesAfter!(input, oneEdge);
    assert.deepEqual(roles.find((r) => r.machine === 'blank'), { machine: 'blank', roles: ['app', 'db-replica', 'redis-replica'] });
    assert.deepEqual(roles.find((r) => r.machine === 'standby'), { machine: 'standby', roles: ['app', 'backup-store', 'db-primary', 'redis', 'job'] });
    await assert.rejects(steps(oneEdge, 'primary-down', { ...input, newBackup: 'standby' }), /--new-backup standby is the machine taking over/);
  });

  test('a spare built into the standby on a fleet with stable endpoints starts its services only once prepare has pointed them at its own endpoints (never at the primary in clear)', async () => {
    const seed = parseFleet(readFileSync(new URL('../../../examples/go-speed/fleet.yaml', import.meta.url), 'utf8'), 'fleet.yaml');
    const fleet: Fleet = { ...seed, machines: [...seed.machines, { name: 'spare-1', address: '10.9.9.9', roles: ['spare'], domains: [], offsite: false }] };
    for (const [scenario, input] of [
      ['backup-down', { failed: 'backup', replacement: 'spare-1' }],
      ['primary-down', { failed: 'primary', heir: 'backup', newBackup: 'spare-1', database: { mode: 'promote', acceptDataLoss: false }, installFromArchive: [], switchEndpoints: ['backup'] }],
    ] as const) {
      const titles = (await steps(fleet, scenario, input)).map((x) => x.title);
      const at = (prefix: string) => titles.findIndex((t) => t.startsWith(prefix));
      assert.ok(at('Stable endpoints on spare-1') > 0 && at('Start only go-api, go-admin, go-fly on spare-1') > at('Stable endpoints on spare-1'), `${scenario}: ${titles.join(' | ')}`);
      assert.ok(at('Add spare-1 to the nginx forwarding lists') > at('Start only go-api'), `${scenario}: users reach it once it serves`);
      assert.equal(at('Point go-api, go-admin, go-fly on spare-1 at the primary'), -1, `${scenario}: no step points them at the primary's address`);
    }
  });

  test('backup-down on a fleet with several services per role starts each of them on the spare', async () => {
    const list = await steps(noReplica, 'backup-down', { failed: 'q', replacement: 'fresh' });
    assert.ok(has(list, 'Start only api, admin on fresh'), list.map((s) => s.title).join(' | '));
    assert.ok(has(list, /Copy \/srv\/api, \/srv\/admin from the primary to fresh/));
  });

  test('rejoin after primary-down: fenced first, its own transactions extracted before its data is touched, then the standby again', async () => {
    const pd = scenarioNamed('primary-down')!;
    const input = { failed: 'main', heir: 'standby', database: { mode: 'promote', acceptDataLoss: false }, installFromArchive: [] };
    const afterFailover = withRoleChanges(oneEdge, pd.rolesAfter!(input, oneEdge), { run: 'r1', since: '2026-12-01T00:00:00Z' });
    const rejoin = scenarioNamed('rejoin')!;
    const resolved = await rejoin.resolve!({ failed: 'main', extractDir: '/tmp/x' }, ctxFor(afterFailover));
    assert.match(String(resolved.extractFile), /^\/tmp\/x\/main-\d{8}T\d{6}Z\.sql$/);
    const list = await steps(afterFailover, 'rejoin', resolved);
    const titles = list.map((s) => s.title);
    const order = ['Confirm the primary is healthy and main answers again', 'Fence main: nothing of it serves', 'Extract the transactions only main holds (not on standby)', 'Make MariaDB on main a replica of standby', 'Start only web on main', 'Add main to the nginx forwarding lists', "Put main's domains back on the domain list", 'Turn on semi-sync on standby', 'Make Redis on main a replica of standby', 'Verify the business answers'];
    let last = -1;
    for (const prefix of order) {
      const at = titles.findIndex((t) => t.startsWith(prefix));
      assert.ok(at > last, `"${prefix}" after the step before it: ${titles.join(' | ')}`);
      last = at;
    }
    assert.ok(!titles.some((t) => /cron-runner/.test(t)), `the singleton stays with the primary: ${titles.join(' | ')}`);
    assert.deepEqual(rejoin.rolesAfter!(resolved, afterFailover), [{ machine: 'main', roles: ['app', 'db-replica', 'redis-replica'] }]);
    // A machine in service is not "rejoined".
    await assert.rejects(async () => steps(afterFailover, 'rejoin', { failed: 'standby' }), /standby is in service/);
    const edgeGone = withRoleChanges(oneEdge, [{ machine: 'front', down: true }], { run: 'r2', since: '2026-12-01T00:00:00Z' });
    await assert.rejects(async () => steps(edgeGone, 'rejoin', { failed: 'front' }), /front was edge: rejoin brings back an app server/);
  });

  test('both-app-down and total-loss rebuild the spare, fence the old primary and its singleton first', async () => {
    for (const scenario of ['both-app-down', 'total-loss']) {
      const list = await steps(oneEdge, scenario, { failed: 'main', replacement: 'blank' });
      const fence = list.findIndex((s) => s.title.startsWith('Make sure main cannot run its singletons'));
      const start = list.findIndex((s) => s.title.startsWith('Start web, cron-runner on blank'));
      assert.ok(fence >= 0 && start > fence, `${scenario}: ${list.map((s) => s.title).join(' | ')}`);
      // standby (a store) is lost with the app servers: the off-site vault is the one left.
      assert.ok(has(list, 'Restore the newest good copy from vault'), `${scenario}: the surviving store is named`);
    }
  });

  test('both-app-down without Redis installs only MariaDB on the spare', async () => {
    const list = await steps(noReplica, 'both-app-down', { failed: 'p', replacement: 'fresh' });
    assert.ok(has(list, 'Install MariaDB on fresh'), list.map((s) => s.title).join(' | '));
    assert.ok(!has(list, /Redis on fresh/), list.map((s) => s.title).join(' | '));
    assert.ok(!has(list, 'domain list'), 'the lost app servers served no domain directly: no domain-list step');
  });
});
