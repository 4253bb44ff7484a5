import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFleet } from '../../fleet/load.ts';
import { MINIMAL_DATABASE_YAML } from '../../fleet/fixtures.ts';
import { restartedBetween, runningPrograms, servicePids, survivorPrograms } from './restarts.ts';

const fleet = parseFleet(`version: 1
name: r
machines:
  - { name: main, address: 192.0.2.2, roles: [app, db-primary, job] }
  - { name: standby, address: 192.0.2.3, roles: [app, db-replica] }
  - { name: edge, address: 192.0.2.4, roles: [edge], domains: [a.example.com] }
services:
  web: { roles: [app], dir: /srv/web, port: 9000, driver: { type: supervisor, program: web-prog } }
  cron: { roles: [job], dir: /srv/cron }
${MINIMAL_DATABASE_YAML}`, 'r.yaml');

test('runningPrograms reads supervisorctl status: running programs only', () => {
  const status = 'web-prog                         RUNNING   pid 489, uptime 0:00:31\ncron                             STOPPED   Dec 01 07:06 AM\nlifeboat-endpoints               RUNNING   pid 462, uptime 0:00:33\n';
  assert.deepEqual(Object.fromEntries(runningPrograms(status)), { 'web-prog': 489, 'lifeboat-endpoints': 462 });
});

test("the survivors' services, by role, with their supervisor program; a restarted or stopped one is named", async () => {
  const survivors = survivorPrograms(fleet, [{ kind: 'machine-down', host: 'main' }]);
  assert.deepEqual(survivors.map((s) => [s.machine, Object.fromEntries(s.programs)]), [['standby', { 'web-prog': 'web' }]]);
  const pids = { standby: 'web-prog RUNNING pid 10, uptime 0:01:00\n' };
  const before = await servicePids(async (host) => ({ stdout: pids[host as 'standby'] }), survivors);
  assert.deepEqual(restartedBetween(before, before), []);
  pids.standby = 'web-prog RUNNING pid 11, uptime 0:00:01\n';
  assert.deepEqual(restartedBetween(before, await servicePids(async (host) => ({ stdout: pids[host as 'standby'] }), survivors)), ['standby/web']);
  await assert.rejects(servicePids(async () => ({ stdout: 'unix:///var/run/supervisor.sock no such file\n' }), survivors), /cannot read supervisor on standby/);
  pids.standby = 'web-prog STOPPED Dec 01\n';
  assert.deepEqual(restartedBetween(before, await servicePids(async (host) => ({ stdout: pids[host as 'standby'] }), survivors)), ['standby/web']);
});
