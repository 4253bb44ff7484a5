import assert from 'node:assert/strict';
import { test } from 'node:test';
import { blockVerdicts, type InsideView, type PortSeen, type UsersSideReport } from './reachability.ts';

const EDGES = { 'edge-1': '198.51.100.11', 'edge-2': '198.51.100.12' } as const;
type Edge = keyof typeof EDGES;

/** A users'-side report: each edge's ports 22, 80, 443 as given (default 22 and 80 open, 443 refused). */
function report(probe: string, seen: Partial<Record<Edge, Partial<Record<number, PortSeen>>>> = {}, names: UsersSideReport['names'] = []): UsersSideReport {
  return {
    probe, receivedAt: 0, names,
    ports: (Object.keys(EDGES) as Edge[]).flatMap((machine) =>
      [22, 80, 443].map((port) => ({ machine, address: EDGES[machine], port, seen: seen[machine]?.[port] ?? (port === 443 ? 'refused' : 'open') }))),
  };
}

const inside = (over: Partial<InsideView> = {}): InsideView => ({
  alive: new Set(['edge-1', 'edge-2']),
  ports: (Object.keys(EDGES) as Edge[]).flatMap((machine) => [22, 80, 443].map((port) => ({ machine, address: EDGES[machine], port, seen: (port === 443 ? 'refused' : 'open') as PortSeen }))),
  names: new Map([['shop.example', [EDGES['edge-1']]], ['api.example', [EDGES['edge-2']]]]),
  ...over,
});
const kinds = (vs: ReturnType<typeof blockVerdicts>) => vs.map((v) => `${v.kind} ${v.target}`);
const allSilent = { 22: 'silent', 80: 'silent', 443: 'silent' } as const;

test('every port silent from the users while the fleet sees the machine alive: ip-blocked, with the evidence', () => {
  const vs = blockVerdicts([report('office', { 'edge-1': allSilent })], inside());
  assert.deepEqual(kinds(vs), ['ip-blocked edge-1']);
  const rows = vs[0]!.evidence;
  assert.ok(rows.some((r) => r.vantage === 'inside' && r.seen === 'alive'));
  assert.ok(rows.some((r) => r.vantage === 'users:office' && r.check === 'tcp 198.51.100.11:80' && r.seen === 'silent'));
  assert.ok(rows.some((r) => r.vantage === 'daemon' && r.check === 'tcp/80' && r.seen === 'open'));
});

test('a machine the failure verdict does not call alive gets no blocked verdict: dead is not blocked', () => {
  assert.deepEqual(blockVerdicts([report('office', { 'edge-1': allSilent })], inside({ alive: new Set(['edge-2']) })), []);
});

test('one port silent while another answers: port-blocked; a port refused inside is a service down, not a block', () => {
  assert.deepEqual(kinds(blockVerdicts([report('office', { 'edge-1': { 80: 'silent' } })], inside())), ['port-blocked edge-1:80']);
  const down = inside({ ports: inside().ports.map((p) => (p.machine === 'edge-1' && p.port === 80 ? { ...p, seen: 'refused' as PortSeen } : p)) });
  assert.deepEqual(blockVerdicts([report('office', { 'edge-1': { 80: 'silent' } })], down), []);
  // Silent for everyone (a firewall on the way): still blocked, the machine is alive.
  const everywhere = inside({ ports: inside().ports.map((p) => (p.machine === 'edge-1' && p.port === 80 ? { ...p, seen: 'silent' as PortSeen } : p)) });
  assert.deepEqual(kinds(blockVerdicts([report('office', { 'edge-1': { 80: 'silent' } })], everywhere)), ['port-blocked edge-1:80']);
});

test('a poisoned answer is domain-blocked; a failing name is domain-blocked only while its address answers', () => {
  const poisoned = report('office', {}, [{ domain: 'shop.example', addresses: ['203.0.113.250'] }, { domain: 'api.example', addresses: [EDGES['edge-2']] }]);
  const vs = blockVerdicts([poisoned], inside());
  assert.deepEqual(kinds(vs), ['domain-blocked shop.example']);
  assert.ok(vs[0]!.evidence.some((r) => r.vantage === 'authoritative' && r.seen === EDGES['edge-1']));
  const failing = [{ domain: 'shop.example', error: 'ENOTFOUND' }];
  assert.deepEqual(kinds(blockVerdicts([report('office', {}, failing)], inside())), ['domain-blocked shop.example']);
  assert.deepEqual(kinds(blockVerdicts([report('office', { 'edge-1': allSilent }, failing)], inside())), ['ip-blocked edge-1']);
  // Without an authoritative answer there is nothing to compare with.
  assert.deepEqual(blockVerdicts([poisoned], inside({ names: new Map() })), []);
});

test('a majority of the users\' probes decides: one of two is not enough, two of three is; no report, no verdict', () => {
  const blocked = report('a', { 'edge-1': allSilent });
  assert.deepEqual(blockVerdicts([blocked, report('b')], inside()), []);
  assert.deepEqual(kinds(blockVerdicts([blocked, report('b', { 'edge-1': allSilent }), report('c')], inside())), ['ip-blocked edge-1']);
  assert.deepEqual(blockVerdicts([], inside()), []);
});
