/**
 * The users'-side probe against the daemon's real HTTP API on loopback: a round lands in the
 * store, signed; a wrong token, a stale clock, a forged or oversized body, and a daemon that
 * is not there are refused with errors that say what to fix.
 */
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { after, before, test } from 'node:test';
import { serveApi } from '../http-api.ts';
import { WatchMetrics } from '../metrics.ts';
import { fetchTargets, ProbeAgentError, runProbeAgent } from './agent.ts';
import { MAX_BODY_BYTES, REPORT_PATH, signature, TARGETS_PATH, type ProbeTargets } from './protocol.ts';
import { UsersSideStore } from './store.ts';

const TOKEN = 'a-shared-token';
let api: Server;
let open: Server;
let url: string;
let closedPort: number;
const store = new UsersSideStore(60_000);

const listening = async (s: Server) => {
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return (s.address() as AddressInfo).port;
};

before(async () => {
  open = createServer((socket) => socket.end());
  const openPort = await listening(open);
  const closed = createServer();
  closedPort = await listening(closed);
  await new Promise((resolve) => closed.close(resolve));
  const targets: ProbeTargets = {
    fleet: 'w', intervalS: 1, timeoutMs: 1000, domains: ['localhost'],
    ports: [{ machine: 'edge', address: '127.0.0.1', port: openPort }, { machine: 'edge', address: '127.0.0.1', port: closedPort }],
  };
  api = await serveApi({ metrics: new WatchMetrics(), usersSide: { token: TOKEN, targets, store } }, '127.0.0.1', 0);
  url = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
});
after(() => {
  api.close();
  open.close();
});

test('one round: the targets come from the daemon, the signed report lands in its store', async () => {
  const rounds: unknown[] = [];
  await runProbeAgent({ url, token: TOKEN, name: 'office', once: true, signal: new AbortController().signal, onRound: (r) => rounds.push(r) });
  assert.equal(rounds.length, 1);
  assert.equal((rounds[0] as { pushed: boolean }).pushed, true);
  const [report] = store.fresh();
  assert.equal(report?.probe, 'office');
  assert.deepEqual(report!.ports.map((p) => p.seen), ['open', 'refused']);
  assert.deepEqual(report!.names[0]?.addresses, ['127.0.0.1']);
});

test('a wrong token is refused with what to fix; so is a daemon that is not there', async () => {
  await assert.rejects(fetchTargets({ url, token: 'not-the-token', name: 'office' }), (e: unknown) =>
    e instanceof ProbeAgentError && e.code === 'refused' && /signature wrong/.test(e.message) && /watch\.usersSide\.token/.test(e.message));
  await assert.rejects(fetchTargets({ url: `http://127.0.0.1:${closedPort}`, token: TOKEN, name: 'office' }), (e: unknown) =>
    e instanceof ProbeAgentError && e.code === 'unreachable' && /ECONNREFUSED/.test(e.message));
});

test('a stale time, a body that is not the one signed, an oversized or malformed report: refused, nothing stored', async () => {
  const before = store.generation;
  const post = (body: string, time: number, signed = body) =>
    fetch(`${url}${REPORT_PATH}`, { method: 'POST', body, headers: { 'x-lifeboat-time': String(time), 'x-lifeboat-signature': signature(TOKEN, 'POST', REPORT_PATH, String(time), signed) } });
  const good = JSON.stringify({ probe: 'office', ports: [], names: [] });
  const stale = await post(good, Date.now() - 10 * 60_000);
  assert.equal(stale.status, 401);
  assert.match(((await stale.json()) as { hint: string }).hint, /clock/);
  assert.equal((await post(JSON.stringify({ probe: 'forged', ports: [], names: [] }), Date.now(), good)).status, 401);
  assert.equal((await post('x'.repeat(MAX_BODY_BYTES + 1), Date.now()).catch(() => ({ status: 413 }))).status, 413);
  const malformed = await post(JSON.stringify({ probe: 'office', ports: [{ port: 99999 }], names: [] }), Date.now());
  assert.equal(malformed.status, 400);
  assert.match(((await malformed.json()) as { error: string }).error, /bad report: ports\.0/);
  assert.equal((await fetch(`${url}${TARGETS_PATH}`)).status, 401, 'no signature, no targets');
  assert.equal(store.generation, before);
});

test("a daemon without watch.usersSide says so", async () => {
  const bare = await serveApi({ metrics: new WatchMetrics() }, '127.0.0.1', 0);
  try {
    const r = await fetch(`http://127.0.0.1:${(bare.address() as AddressInfo).port}${TARGETS_PATH}`);
    assert.equal(r.status, 404);
    assert.match(((await r.json()) as { error: string }).error, /no watch\.usersSide/);
  } finally {
    bare.close();
  }
});
