/**
 * The dashboard's HTTP side against the real server `lifeboat serve --listen` runs (Hono on
 * Node's http), a real state file and the page's own live stream: without a session every
 * page redirects to the login and every API call is 401; a mutating request without the
 * session's CSRF token, or from another origin, is refused; five wrong passwords slow every
 * further try down; a plan is rejected with who and when recorded; the live stream sends a
 * new view when a run changes. The browser side runs on the lab (test/control/dashboard-browser.test.ts).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { listeningPort, serveApi } from '../../src/control/http-api.ts';
import { WatchMetrics } from '../../src/control/metrics.ts';
import { WebAuth } from '../../src/control/web/auth.ts';
import { DashboardModel } from '../../src/control/web/model.ts';
import { parseFleet } from '../../src/fleet/load.ts';
import { Journal } from '../../src/recovery/journal.ts';

const fleet = parseFleet(`version: 1
name: board
machines:
  - { name: core, address: 192.0.2.10, roles: [app], domains: [shop.example] }
services:
  web: { roles: [app], dir: /srv/web, driver: { type: command, start: "true", stop: "true", status: "true" } }
`);

let dir: string;
let journal: Journal;
let auth: WebAuth;
let server: Server;
let base: string;
const approved: string[] = [];
const PASSWORD = 'correct horse battery';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lifeboat-dashboard-'));
  const state = join(dir, 'state.db');
  journal = Journal.open(state);
  auth = WebAuth.open(state);
  await auth.addUser('ana', PASSWORD);
  await auth.addUser('bo', PASSWORD);
  const model = new DashboardModel(() => fleet, journal);
  server = await serveApi({
    metrics: new WatchMetrics(),
    dashboard: {
      auth, fleetName: fleet.name, view: () => model.view(), liveIntervalMs: 100,
      approve: (id, by) => { approved.push(`${id} ${by}`); },
      reject: (id, by) => journal.reject(id, by),
    },
  }, '127.0.0.1', 0);
  base = `http://127.0.0.1:${listeningPort(server)}`;
});
after(async () => {
  server.close();
  auth.close();
  journal.close();
  await rm(dir, { recursive: true, force: true });
});

const login = (user: string, password: string, headers: Record<string, string> = {}) => fetch(`${base}/login`, {
  method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams({ user, password }).toString(),
});
async function session(user: string): Promise<{ cookie: string; csrf: string }> {
  const r = await login(user, PASSWORD);
  assert.equal(r.status, 303);
  const setCookie = r.headers.get('set-cookie') ?? '';
  assert.match(setCookie, /HttpOnly/i);
  assert.match(setCookie, /SameSite=Strict/i);
  const cookie = setCookie.split(';')[0]!;
  const page = await (await fetch(`${base}/`, { headers: { cookie } })).text();
  const csrf = /<meta name="csrf" content="([^"]+)">/.exec(page)![1]!;
  return { cookie, csrf };
}

test('without a session every page redirects to the login and every API call is 401; the health endpoint answers', async () => {
  for (const path of ['/', '/runs', '/anything']) {
    const r = await fetch(`${base}${path}`, { redirect: 'manual' });
    assert.equal(r.status, 302, path);
    assert.equal(r.headers.get('location'), '/login');
  }
  for (const [method, path] of [['GET', '/api/view'], ['GET', '/api/live'], ['POST', '/api/runs/x/approve'], ['POST', '/api/runs/x/reject']] as const) {
    assert.equal((await fetch(`${base}${path}`, { method })).status, 401, `${method} ${path}`);
  }
  assert.equal((await fetch(`${base}/api/view`, { headers: { cookie: 'lifeboat_session=forged' } })).status, 401, 'a made-up token is no session');
  assert.equal(await (await fetch(`${base}/healthz`)).text(), 'ok\n');
  // What every browser asks for first: answered empty, never a 404 in its console nor a login redirect.
  assert.equal((await fetch(`${base}/favicon.ico`, { redirect: 'manual' })).status, 204);
  const page = await fetch(`${base}/login`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'/);
});

test('a mutating request without the CSRF token, or from another origin, is refused; with it, it is done and says by whom', async () => {
  const s = await session('ana');
  assert.equal((await fetch(`${base}/api/runs/r1/approve`, { method: 'POST', headers: { cookie: s.cookie } })).status, 403, 'no token');
  assert.equal((await fetch(`${base}/api/runs/r1/approve`, { method: 'POST', headers: { cookie: s.cookie, 'x-csrf-token': 'wrong' } })).status, 403, 'wrong token');
  assert.equal((await fetch(`${base}/api/runs/r1/approve`, { method: 'POST', headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, origin: 'http://evil.example' } })).status, 403, 'another origin');
  assert.deepEqual(approved, []);
  const ok = await fetch(`${base}/api/runs/r1/approve`, { method: 'POST', headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, origin: base } });
  assert.equal(ok.status, 200);
  assert.deepEqual(approved, ['r1 ana']);
});

test('a plan rejected from the dashboard is never run, and the journal says who rejected it and when', async () => {
  const s = await session('ana');
  const id = journal.createRun({ scenario: 'primary-down', input: { failed: 'core' }, mode: 'plan', fleet: 'board', steps: [{ index: 0, parent: null, title: 'Promote', machines: ['core'], mutating: true, undoable: false }] });
  journal.finishRun(id, 'planned');
  const view = await (await fetch(`${base}/api/view`, { headers: { cookie: s.cookie } })).json() as { runs: Array<{ id: string; pending: boolean }> };
  assert.equal(view.runs.find((r) => r.id === id)?.pending, true);
  const r = await fetch(`${base}/api/runs/${id}/reject`, { method: 'POST', headers: { cookie: s.cookie, 'x-csrf-token': s.csrf } });
  assert.equal(r.status, 200, await r.text());
  const run = journal.run(id);
  assert.equal(run.outcome, 'abandoned');
  assert.equal(run.acknowledgements[0]?.by, 'ana');
  assert.equal(run.acknowledgements[0]?.comment, 'rejected');
  assert.equal((await fetch(`${base}/api/runs/${id}/reject`, { method: 'POST', headers: { cookie: s.cookie, 'x-csrf-token': s.csrf } })).status, 409, 'decided once');
});

test('the live stream sends the view, and a new one as soon as a run changes', async () => {
  const s = await session('ana');
  const controller = new AbortController();
  const r = await fetch(`${base}/api/live`, { headers: { cookie: s.cookie }, signal: controller.signal });
  assert.match(r.headers.get('content-type') ?? '', /text\/event-stream/);
  const reader = r.body!.getReader();
  let text = '';
  const nextView = async () => {
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      const end = text.indexOf('\n\n');
      if (end >= 0) {
        const frame = text.slice(0, end);
        text = text.slice(end + 2);
        const data = /^data: (.*)$/m.exec(frame)?.[1];
        if (/^event: view$/m.test(frame) && data) return JSON.parse(data) as { runs: Array<{ id: string; steps: Array<{ state: string }> }> };
        continue;
      }
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString();
    }
    throw new Error(`no view within 5 s: ${text}`);
  };
  const first = await nextView();
  const id = journal.createRun({ scenario: 'edge-down', input: { failed: 'core' }, mode: 'auto', fleet: 'board', steps: [{ index: 0, parent: null, title: 'Switch', machines: ['core'], mutating: true, undoable: false }] });
  const t0 = Date.now();
  const second = await nextView();
  assert.ok(!first.runs.some((x) => x.id === id) && second.runs.some((x) => x.id === id), 'the new run is in the next view');
  journal.stepState(id, 0, 'verified', { start: true });
  const third = await nextView();
  assert.equal(third.runs.find((x) => x.id === id)?.steps[0]?.state, 'verified');
  assert.ok(Date.now() - t0 < 5000);
  controller.abort();
});

test('five wrong passwords slow every further try down, the right one included', async () => {
  for (let i = 0; i < 5; i++) assert.equal((await login('bo', 'wrong password!')).status, 401, `try ${i + 1}`);
  const sixth = await login('bo', PASSWORD);
  assert.equal(sixth.status, 429, 'refused outright while the delay runs');
  assert.ok(Number(sixth.headers.get('retry-after')) >= 1);
  assert.match(await sixth.text(), /Too many wrong passwords/);
});

test('given a certificate it serves HTTPS, and its session cookie is Secure', async () => {
  const { execFileSync } = await import('node:child_process');
  const { readFile } = await import('node:fs/promises');
  const { request } = await import('node:https');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '1'], { stdio: 'ignore' });
  const cert = await readFile(join(dir, 'cert.pem'));
  const secureAuth = WebAuth.open(join(dir, 'tls-state.db'));
  await secureAuth.addUser('cy', PASSWORD);
  const tlsServer = await serveApi({
    metrics: new WatchMetrics(),
    dashboard: { auth: secureAuth, fleetName: 'board', view: () => new DashboardModel(() => fleet, journal).view(), approve: () => undefined, reject: () => undefined },
  }, '127.0.0.1', 0, { cert, key: await readFile(join(dir, 'key.pem')) });
  try {
    const body = new URLSearchParams({ user: 'cy', password: PASSWORD }).toString();
    const answer = await new Promise<{ status: number; cookie: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: listeningPort(tlsServer), path: '/login', method: 'POST', ca: cert, headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } }, (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, cookie: String(res.headers['set-cookie'] ?? '') });
      });
      req.on('error', reject);
      req.end(body);
    });
    assert.equal(answer.status, 303);
    assert.match(answer.cookie, /; Secure/i);
  } finally {
    tlsServer.close();
    secureAuth.close();
  }
});
