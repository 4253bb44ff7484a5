import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstSuccessAfter } from './analysis.ts';
import type { TrafficRecord } from './records.ts';

const rec = (t: number, ms: number, domain: string, op: TrafficRecord['op'], service: TrafficRecord['service'], ok: boolean): TrafficRecord =>
  ({ t, ms, base: `http://${domain}`, domain, op, service, ok });

test('first success after an instant, per domain and per service, by completion time', () => {
  const records = [
    rec(900, 50, 'a.example.com', 'chat', 'go-fly', true), // before the fault: ignored
    rec(1000, 1000, 'a.example.com', 'chat', 'go-fly', false),
    rec(1500, 700, 'a.example.com', 'register', 'go-api', true), // done at 2200
    rec(1800, 100, 'b.example.com', 'domains', 'go-admin', true), // done at 1900: the first overall
    rec(2500, 30, 'a.example.com', 'chat', 'go-fly', true),
    rec(2600, 10, 'c.example.com', 'upload', 'go-upload', false),
  ];
  const r = firstSuccessAfter(records, 1000);
  assert.deepEqual(r.overall, { at: 1900, afterMs: 900, op: 'domains' });
  assert.deepEqual(r.byDomain['a.example.com'], { at: 2200, afterMs: 1200, op: 'register' });
  assert.equal(r.byDomain['c.example.com'], null, 'a domain that never recovered is listed as null');
  assert.deepEqual(r.byService['go-fly'], { at: 2530, afterMs: 1530, op: 'chat' });
  assert.equal(r.byService['go-upload'], null);
  assert.equal(firstSuccessAfter(records, 3000).overall, null);
});
