import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Remote, RunResult } from '../remote/remote.ts';
import { probeCommand, runProbe } from './machine-probe.ts';
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
