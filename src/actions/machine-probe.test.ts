import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { LocalRemote } from '../remote/local.ts';
import type { Remote, RunOptions, RunResult } from '../remote/remote.ts';
import { probeAllUntil, probeCommand, runProbe, runProbes } from './machine-probe.ts';
import { healthProbe } from './service-health.ts';

function answering(result: Partial<RunResult>): Remote {
  const fail = () => Promise.reject(new Error('unused'));
  return {
    machine: 'edge',
    run: async () => ({ code: 0, stdout: '', stderr: '', ms: 1, ...result }),
    readFile: fail, writeFile: fail, upload: fail, download: fail, close: async () => {},
  };
}

test('probe commands are bounded by a timeout and quote their arguments', () => {
  assert.equal(probeCommand({ type: 'tcp', host: '198.51.100.20', port: 3306 }), "timeout 1 bash -c '</dev/tcp/198.51.100.20/3306'");
  assert.equal(
    probeCommand({ type: 'http', url: 'http://127.0.0.1/a?b=c d', host: 'thertee.xyz' }),
    "curl -sS --max-time 1 --connect-timeout 1 -H 'Host: thertee.xyz' -w '\n@@lifeboat-status:%{http_code}' 'http://127.0.0.1/a?b=c d'",
  );
  assert.deepEqual(healthProbe({ type: 'http', port: 8000, path: '/healthz', expectStatus: 200 }), {
    type: 'http', url: 'http://127.0.0.1:8000/healthz', expectStatus: 200,
  });
});

test('HTTP probe results check status and body', async () => {
  const ok = answering({ stdout: 'backend b\n\n@@lifeboat-status:200' });
  assert.deepEqual(await runProbe(ok, { type: 'http', url: 'http://x/', expectBody: 'backend b' }), {
    ok: true, detail: 'answered 200', status: 200, body: 'backend b\n',
  });
  assert.equal((await runProbe(ok, { type: 'http', url: 'http://x/', expectBody: 'backend a' })).ok, false);
  assert.equal((await runProbe(ok, { type: 'http', url: 'http://x/', expectStatus: 204 })).ok, false);
  const refused = answering({ code: 7, stdout: '\n@@lifeboat-status:000', stderr: 'curl: (7) Failed to connect' });
  assert.deepEqual(await runProbe(refused, { type: 'http', url: 'http://x/' }), { ok: false, detail: 'no HTTP answer: curl: (7) Failed to connect' });
});

test('several probes in one command on the machine (a real shell, curl and HTTP servers): each its own answer, in order', async () => {
  const listen = (status: number, body: string) => new Promise<Server>((resolve) => {
    const server = createServer((_req, res) => res.writeHead(status).end(body));
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
  const [healthy, failing] = await Promise.all([listen(200, 'ok mysql redis\n'), listen(503, 'down')]);
  const port = (s: Server) => (s.address() as { port: number }).port;
  // A port that was just free: nothing listens there.
  const closed = await listen(200, '');
  const closedPort = port(closed);
  await new Promise((resolve) => closed.close(resolve));
  const remote = new LocalRemote('here');
  let runs = 0;
  const counting: Remote = Object.assign(Object.create(remote) as LocalRemote, {
    run: (command: string, options?: RunOptions) => { runs += 1; return remote.run(command, options); },
  });
  try {
    const probes = [
      { type: 'http' as const, url: `http://127.0.0.1:${port(healthy)}/healthz`, expectStatus: 200, expectBody: 'redis' },
      { type: 'http' as const, url: `http://127.0.0.1:${port(failing)}/healthz`, expectStatus: 200 },
      { type: 'http' as const, url: `http://127.0.0.1:${closedPort}/healthz` },
      { type: 'tcp' as const, host: '127.0.0.1', port: port(healthy) },
      { type: 'tcp' as const, host: '127.0.0.1', port: closedPort },
    ];
    const results = await runProbes(counting, probes);
    assert.equal(runs, 1, 'one command for all five');
    assert.deepEqual(results.map((r) => r.ok), [true, false, false, true, false]);
    assert.equal(results[0]!.body, 'ok mysql redis\n');
    assert.equal(results[1]!.detail, 'answered 503, expected 200');
    assert.match(results[2]!.detail, /^no HTTP answer: curl: \(7\)/);
    assert.equal(results[4]!.detail, `127.0.0.1:${closedPort} refused or timed out`);
    // Until: the passing ones are not asked again; the rest are, until the time is up.
    runs = 0;
    const until = await probeAllUntil(counting, probes, 350, 100);
    assert.deepEqual(until.map((r) => r.ok), [true, false, false, true, false]);
    assert.ok(runs >= 2 && runs <= 5, `rounds: ${runs}`);
    // No temporary folder can be made (a full disk): one command each, the same answers.
    runs = 0;
    const noTemp: Remote = Object.assign(Object.create(remote) as LocalRemote, {
      run: (command: string, options?: RunOptions) => { runs += 1; return remote.run(`export TMPDIR=/nonexistent/lifeboat-test; ${command}`, options); },
    });
    assert.deepEqual((await runProbes(noTemp, probes)).map((r) => r.ok), [true, false, false, true, false]);
    assert.equal(runs, 1 + probes.length);
  } finally {
    healthy.close();
    failing.close();
  }
});
