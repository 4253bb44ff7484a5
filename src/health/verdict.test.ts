import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseFleet } from '../fleet/load.ts';
import { MINIMAL_DATABASE_YAML } from '../fleet/fixtures.ts';
import { decide, parseRemoteProbe, portsOf, remoteProbeScript, viewOf, witnessesOf, type Seen, type VantageView } from './verdict.ts';

const view = (vantage: string, seen: Seen): VantageView => ({ vantage, seen, checks: [] });

describe('decide: one vantage point never decides', () => {
  test('every vantage sees it down: dead', () => {
    const v = decide('primary', '10.0.0.1', [view('operator', 'down'), view('edge-1', 'down'), view('edge-2', 'down'), view('backup', 'down')]);
    assert.equal(v.kind, 'dead');
  });
  test('cut from the operator only: unreachable-from-some, with the paths that see it', () => {
    const v = decide('primary', '10.0.0.1', [view('operator', 'down'), view('edge-1', 'up'), view('edge-2', 'up'), view('backup', 'up')]);
    assert.equal(v.kind, 'unreachable-from-some');
    assert.deepEqual(v.seenBy, ['edge-1', 'edge-2', 'backup']);
    assert.match(v.reason, /not by operator/);
  });
  test('cut from the edges only: unreachable-from-some', () => {
    const v = decide('primary', '10.0.0.1', [view('operator', 'up'), view('edge-1', 'down'), view('edge-2', 'down'), view('backup', 'up')]);
    assert.equal(v.kind, 'unreachable-from-some');
  });
  test('only the operator answered and sees it down: unknown, never dead', () => {
    const v = decide('primary', '10.0.0.1', [view('operator', 'down'), view('edge-1', 'unknown'), view('edge-2', 'unknown'), view('backup', 'unknown')]);
    assert.equal(v.kind, 'unknown');
  });
  test('a fleet with a single witness can never reach dead on one view', () => {
    assert.equal(decide('a', '10.0.0.1', [view('operator', 'down')]).kind, 'unknown');
    assert.equal(decide('a', '10.0.0.1', [view('operator', 'down'), view('b', 'unknown')]).kind, 'unknown');
    assert.equal(decide('a', '10.0.0.1', [view('operator', 'down'), view('b', 'down')]).kind, 'dead');
  });
  test('the other app server is gone too (both app servers down): the majority that answered still decides', () => {
    const v = decide('primary', '10.0.0.1', [view('operator', 'down'), view('edge-1', 'down'), view('edge-2', 'down'), view('backup', 'unknown')]);
    assert.equal(v.kind, 'dead');
  });
  test('two down of five is not a majority', () => {
    const v = decide('x', '10.0.0.1', [view('operator', 'down'), view('a', 'down'), view('b', 'unknown'), view('c', 'unknown'), view('d', 'unknown')]);
    assert.equal(v.kind, 'unknown');
  });
  test('seen up by everyone that answered: alive', () => {
    assert.equal(decide('x', '10.0.0.1', [view('operator', 'up'), view('a', 'unknown')]).kind, 'alive');
  });
});

describe('a vantage point\'s own view', () => {
  test('any fresh connection that got through means up', () => {
    assert.equal(viewOf('e', [{ check: 'tcp/22', seen: 'down' }, { check: 'tcp/80', seen: 'up' }]).seen, 'up');
  });
  test("fresh connections beat the replica IO thread's cached state", () => {
    const v = viewOf('backup', [{ check: 'tcp/22', seen: 'down' }, { check: 'tcp/3306', seen: 'down' }, { check: 'replica-io', seen: 'up' }]);
    assert.equal(v.seen, 'down');
  });
  test('the IO thread decides when nothing fresh could be tried', () => {
    const v = viewOf('backup', [{ check: 'tcp/22', seen: 'unknown' }, { check: 'replica-io', seen: 'down' }], 'ssh failed');
    assert.equal(v.seen, 'down');
    assert.equal(viewOf('backup', [{ check: 'tcp/22', seen: 'unknown' }], 'ssh failed').seen, 'unknown');
  });
  test("the IO thread's cached \"Yes\" alone proves nothing: the view is unknown, never up", () => {
    const v = viewOf('backup', [{ check: 'tcp/22', seen: 'unknown' }, { check: 'replica-io', seen: 'up' }], 'probe timed out');
    assert.equal(v.seen, 'unknown');
  });
  test('the remote probe output is read per port; a missing line is unknown, not down', () => {
    const checks = parseRemoteProbe('22 up\n3306 down\n', [22, 3306, 6379], 3);
    assert.deepEqual(checks.map((c) => c.seen), ['up', 'down', 'unknown']);
  });
});

describe('who looks at what', () => {
  const fleet = parseFleet(
    `version: 1
name: t
machines:
  - { name: db, address: 10.0.0.1, roles: [app, db-primary, redis] }
  - { name: rep, address: 10.0.0.2, roles: [app, db-replica] }
  - { name: e1, address: 10.0.0.3, roles: [edge] }
  - { name: store, address: 10.0.0.4, roles: [backup-store] }
  - { name: sp, address: 10.0.0.5, roles: [spare] }
services:
  api: { roles: [app], dir: /srv/api, port: 9000, driver: { type: systemd, unit: api } }
${MINIMAL_DATABASE_YAML}redis: {}
`,
    'fleet.yaml',
  );
  test('ports by roles and services', () => {
    assert.deepEqual(portsOf(fleet, fleet.machines[0]!).sort(), [22, 3306, 6379, 9000].sort());
    assert.deepEqual(portsOf(fleet, fleet.machines[2]!).sort(), [22, 80]);
  });
  test('witnesses: machines that talk to it, never stores or spares, never itself', () => {
    assert.deepEqual(witnessesOf(fleet, 'db').map((m) => m.name), ['rep', 'e1']);
  });
});

describe('the remote probe script, run by a real shell', () => {
  test('a listening port is up, a closed one down, both within one time-out plus the spacing', async () => {
    const { createServer } = await import('node:net');
    const { execFile } = await import('node:child_process');
    const server = createServer((s) => s.destroy());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const open = (server.address() as { port: number }).port;
    const closed = await new Promise<number>((resolve) => {
      const probe = createServer();
      probe.listen(0, '127.0.0.1', () => {
        const p = (probe.address() as { port: number }).port;
        probe.close(() => resolve(p));
      });
    });
    try {
      const t0 = performance.now();
      const stdout = await new Promise<string>((resolve, reject) =>
        execFile('sh', ['-c', remoteProbeScript('127.0.0.1', [open, closed], 3, 1)], (err, out) => (err ? reject(err) : resolve(out))),
      );
      assert.deepEqual(parseRemoteProbe(stdout, [open, closed], 3).map((c) => c.seen), ['up', 'down']);
      assert.ok(performance.now() - t0 < 3000, 'attempts overlap');
    } finally {
      server.close();
    }
  });
});
