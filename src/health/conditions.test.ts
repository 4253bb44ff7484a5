import assert from 'node:assert/strict';
import { test } from 'node:test';
import { conditionsOf, parseDf, type HealthReading } from './conditions.ts';
import type { FleetStatus, MachineStatus } from './fleet-status.ts';

const LIMITS = { diskFullPercent: 90, backupMaxAgeS: 3600, binlogMaxLagS: 60, certWarnDays: 14 };

const machine = (name: string, over: Partial<MachineStatus> = {}): MachineStatus => ({ name, address: '192.0.2.1', roles: ['app'], reachable: true, services: [], healthy: true, ...over });
const reading = (machines: MachineStatus[], over: Partial<HealthReading> = {}): HealthReading => ({
  status: { fleet: 't', checkedAt: '', healthy: true, risks: [], machines } as FleetStatus,
  disks: [], diskErrors: [], backups: [], certs: [], ...over,
});
const kinds = (r: HealthReading) => conditionsOf(r, LIMITS).conditions.map((c) => `${c.kind} ${c.target}`);

test('a stopped or failing service on a living machine is service-down; one that could not be read is neither', () => {
  const r = reading([machine('core', {
    services: [
      { name: 'api', state: 'stopped', healthy: false, detail: 'not running (supervisor)' },
      { name: 'web', state: 'running', healthy: false, detail: 'HTTP 502' },
      { name: 'job', state: 'running', healthy: true, detail: 'HTTP 200' },
      { name: 'odd', state: 'unknown', healthy: false, detail: 'supervisorctl timed out' },
    ],
  })]);
  assert.deepEqual(kinds(r), ['service-down core/api', 'service-down core/web']);
  assert.deepEqual(conditionsOf(r, LIMITS).unreadable, ['core/odd: supervisorctl timed out']);
});

test('an unreachable or down machine is the failure verdict\'s business, not a condition', () => {
  const stopped = [{ name: 'api', state: 'stopped' as const, healthy: false, detail: '' }];
  assert.deepEqual(kinds(reading([machine('gone', { reachable: false, services: stopped }), machine('out', { down: { since: '', run: '', roles: ['app'] }, services: stopped })])), []);
});

test('database: not answering is db-down, a replica not receiving is replication-broken, semi-sync fallen back is at risk', () => {
  const r = reading([
    machine('core', { mariadb: { ok: false, answers: false, detail: 'connect ECONNREFUSED' } }),
    machine('standby', { mariadb: { ok: false, answers: true, role: 'replica', detail: 'replica', replication: { receiving: 'stopped', applying: 'running', lastError: 'error reconnecting' } } }),
    machine('main', { mariadb: { ok: true, answers: true, role: 'primary', detail: 'answers', replication: { semiSync: 'async' }, risk: 'semi-sync fell back to async' } }),
  ]);
  assert.deepEqual(kinds(r), ['db-down core', 'replication-broken standby', 'replication-at-risk main']);
  assert.match(conditionsOf(r, LIMITS).conditions[1]!.reason, /not receiving: error reconnecting/);
});

test('disks over the limit, stale or missing backups, expiring certificates; unreadable ones are said, not judged', () => {
  const r = reading([machine('core')], {
    disks: [{ machine: 'core', mount: '/data', usedPercent: 97 }, { machine: 'core', mount: '/', usedPercent: 40 }],
    diskErrors: [{ machine: 'edge', error: 'ssh timed out' }],
    backups: [{ store: 'vault', newest: '20261130T000000Z', ageS: 7200 }, { store: 'far', newest: '20261130T010000Z', ageS: 600 }, { store: 'empty' }, { store: 'broken', error: 'ls failed' }],
    certs: [{ domain: 'shop.example', address: '192.0.2.5', daysLeft: 3 }, { domain: 'old.example', address: '192.0.2.5', daysLeft: -2 }, { domain: 'fine.example', address: '192.0.2.5', daysLeft: 80 }, { domain: 'odd.example', address: '192.0.2.5', error: 'no TLS answer' }],
  });
  assert.deepEqual(kinds(r), ['disk-full core:/data', 'backup-stale vault', 'backup-stale empty', 'cert-expiring shop.example', 'cert-expiring old.example']);
  const found = conditionsOf(r, LIMITS);
  assert.match(found.conditions.find((c) => c.target === 'old.example')!.reason, /expired 2 day\(s\) ago/);
  assert.deepEqual(found.unreadable, ['disks of edge: ssh timed out', 'backups on broken: ls failed', 'certificate of odd.example at 192.0.2.5: no TLS answer']);
});

test("a store's binary log copy too far behind, or holding none, is binlog-behind; one that could not be read is neither", () => {
  const r = reading([machine('core')], {
    binlogCopies: [
      { store: 'vault', state: 'caught-up', behindSeconds: 0, detail: 'caught up' },
      { store: 'near', state: 'behind', behindSeconds: 2, detail: 'in flight' },
      { store: 'far', state: 'behind', behindSeconds: 600, detail: 'BEHIND core' },
      { store: 'empty', state: 'behind', detail: 'holds no binary log of core' },
      { store: 'odd', state: 'unknown', detail: 'cannot be read: ssh timed out' },
    ],
  });
  assert.deepEqual(kinds(r), ['binlog-behind far', 'binlog-behind empty']);
  const found = conditionsOf(r, LIMITS);
  assert.match(found.conditions[0]!.reason, /600 s behind \(limit 60 s\)/);
  assert.match(found.conditions[1]!.reason, /is missing/);
  assert.deepEqual(found.unreadable, ['binary log copy on odd: cannot be read: ssh timed out']);
});

test('df -P output: used percent per mount point', () => {
  const text = 'Filesystem     1024-blocks  Used Available Capacity Mounted on\ntmpfs               65536 65536         0     100% /wwwroot\n/dev/sda1        102400 40960     61440      40% /\n';
  assert.deepEqual(parseDf('core', text), [{ machine: 'core', mount: '/wwwroot', usedPercent: 100 }, { machine: 'core', mount: '/', usedPercent: 40 }]);
});
