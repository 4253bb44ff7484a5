import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { httpCheck, resolveCheck, tcpCheck } from './checks.ts';
import { ProbeScheduler, type ProbeResult } from './scheduler.ts';

const wait = (ms: number, signal: AbortSignal) => sleep(ms, undefined, { signal }).catch(() => undefined);

test('at most perGroup probes of one machine run at once; other machines are not held up', async () => {
  const running = new Map<string, number>();
  const peak = new Map<string, number>();
  const results: ProbeResult<string>[] = [];
  // random() = 0: every first run is due at once, the worst case for a machine.
  const s = new ProbeScheduler<string>({ perGroup: 2, jitter: 0, random: () => 0, onResult: (r) => results.push(r) });
  for (const group of ['slow', 'fast']) {
    for (let i = 0; i < 8; i++) {
      s.add({
        id: `${group}-${i}`, group, intervalMs: 10_000, timeoutMs: 5_000,
        check: async (signal) => {
          running.set(group, (running.get(group) ?? 0) + 1);
          peak.set(group, Math.max(peak.get(group) ?? 0, running.get(group)!));
          await wait(group === 'slow' ? 60 : 1, signal);
          running.set(group, running.get(group)! - 1);
          return group;
        },
      });
    }
  }
  s.start();
  const deadline = Date.now() + 5_000;
  while (results.length < 16 && Date.now() < deadline) await sleep(20);
  s.stop();
  assert.equal(results.length, 16, 'every probe ran once');
  assert.equal(peak.get('slow'), 2);
  assert.ok(peak.get('fast')! <= 2);
  assert.ok(results.every((r) => r.outcome.state === 'ok'));
});

test('a probe still running when due again skips that turn; a silent one times out; a failing one is an error', async () => {
  const results: ProbeResult<number>[] = [];
  let overlapping = 0;
  let inFlight = 0;
  const s = new ProbeScheduler<number>({ jitter: 0, random: () => 0, onResult: (r) => results.push(r) });
  s.add({
    id: 'slow', group: 'a', intervalMs: 20, timeoutMs: 1_000,
    check: async (signal) => {
      inFlight++;
      if (inFlight > 1) overlapping++;
      await wait(110, signal);
      inFlight--;
      return 1;
    },
  });
  s.add({ id: 'silent', group: 'b', intervalMs: 1_000, timeoutMs: 50, check: (signal) => wait(10_000, signal).then(() => 2) });
  s.add({ id: 'broken', group: 'c', intervalMs: 1_000, timeoutMs: 500, check: async () => { throw new Error('connection reset'); } });
  s.start();
  await sleep(400);
  s.stop();
  await sleep(150);
  assert.equal(overlapping, 0, 'never two runs of one probe at once');
  assert.ok(s.stats().skipped >= 4, `turns skipped while running: ${s.stats().skipped}`);
  assert.ok(results.filter((r) => r.id === 'slow').length >= 2);
  assert.deepEqual(results.find((r) => r.id === 'silent')?.outcome, { state: 'timeout' });
  assert.deepEqual(results.find((r) => r.id === 'broken')?.outcome, { state: 'error', error: 'connection reset' });
});

test('jitter moves each next due time within ±jitter of the interval; a removed probe stops', async () => {
  const starts: number[] = [];
  let r = 0;
  // random() alternates 0 and 1: due times move by exactly -jitter and +jitter of the interval.
  // The interval is long enough that a loaded test machine does not make the loop fall behind.
  const s = new ProbeScheduler<void>({ jitter: 0.5, random: () => (r++ % 2 === 0 ? 0 : 1), onResult: (x) => starts.push(x.dueAt) });
  s.add({ id: 'j', group: 'a', intervalMs: 200, timeoutMs: 500, check: async () => undefined });
  s.start();
  await sleep(1000);
  s.remove('j');
  const seen = starts.length;
  await sleep(400);
  s.stop();
  assert.equal(starts.length, seen, 'no result after remove');
  const gaps = starts.slice(1).map((t, i) => Math.round(t - starts[i]!));
  assert.ok(gaps.length >= 3, `gaps: ${gaps.join(', ')}`);
  for (const g of gaps) assert.ok(g === 100 || g === 300, `gap ${g} is the interval moved by ±50 %`);
});

test('bad settings are refused', () => {
  assert.throws(() => new ProbeScheduler({ jitter: 0.9, onResult: () => undefined }), RangeError);
  assert.throws(() => new ProbeScheduler({ perGroup: 0, onResult: () => undefined }), RangeError);
  const s = new ProbeScheduler({ onResult: () => undefined });
  assert.throws(() => s.add({ id: 'x', group: 'g', intervalMs: 0, timeoutMs: 1, check: async () => 1 }), RangeError);
  s.add({ id: 'x', group: 'g', intervalMs: 10, timeoutMs: 1, check: async () => 1 });
  assert.throws(() => s.add({ id: 'x', group: 'g', intervalMs: 10, timeoutMs: 1, check: async () => 1 }), /already scheduled/);
});

test('checks against real local servers: open, refused, Host sent, name resolved', async (t) => {
  const tcp = createServer((socket) => socket.end()).listen(0, '127.0.0.1');
  const http = createHttpServer((req, res) => res.writeHead(req.headers.host === 'shop.example' ? 204 : 421).end()).listen(0, '127.0.0.1');
  await Promise.all([new Promise((resolve) => tcp.once('listening', resolve)), new Promise((resolve) => http.once('listening', resolve))]);
  t.after(() => { tcp.close(); http.close(); });
  const signal = AbortSignal.timeout(5_000);
  const port = (tcp.address() as AddressInfo).port;
  assert.equal(await tcpCheck('127.0.0.1', port, signal), 'open');
  const closed = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => closed.once('listening', resolve));
  const closedPort = (closed.address() as AddressInfo).port;
  closed.close();
  await new Promise((resolve) => closed.once('close', resolve));
  assert.equal(await tcpCheck('127.0.0.1', closedPort, signal), 'refused');
  const httpPort = (http.address() as AddressInfo).port;
  assert.deepEqual(await httpCheck({ address: '127.0.0.1', port: httpPort, host: 'shop.example', path: '/', tls: false }, signal), { status: 204 });
  assert.deepEqual(await httpCheck({ address: '127.0.0.1', port: httpPort, host: 'other.example', path: '/', tls: false }, signal), { status: 421 });
  assert.deepEqual(await resolveCheck('localhost', signal), ['127.0.0.1']);
  await assert.rejects(resolveCheck('no-such-name.invalid', signal));
});
