// Real nginx (Debian nginx-light) on 127.0.0.1 with a temp prefix and two node backends.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ActionError, renderChange } from '../../src/actions/action.ts';
import { setUpstreams } from '../../src/actions/nginx.ts';
import { renderUpstreams } from '../../src/actions/nginx-upstreams.ts';
import { localContext, testFleet } from './support.ts';
import { startBackend, startNginx, type NamedBackend, type TestNginx } from './support-nginx.ts';

let a: NamedBackend;
let b: NamedBackend;
let nginx: TestNginx;
const ctx = localContext(testFleet({ nginx: { upstreams: [{ name: 'app', service: 'go-api' }] } }));

before(async () => {
  a = await startBackend('a');
  b = await startBackend('b');
  // A hand-made upstream in the site: writing one of the same name must be refused by nginx -t.
  nginx = await startNginx(renderUpstreams({ app: [{ host: '127.0.0.1', port: a.port }] }), 'upstream legacy { server 127.0.0.1:9; }');
});
after(async () => {
  await nginx?.stop();
  await a?.close();
  await b?.close();
});

/** Who answers a new connection (a kept-alive one stays with the worker that accepted it). */
async function answer(): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${nginx.port}/`, { signal: AbortSignal.timeout(2000), headers: { connection: 'close' } });
  return (await response.text()).trim();
}

/**
 * Who answers once the workers of an earlier reload are gone: for a moment after a reload
 * an old worker may still accept a connection and serve the old configuration.
 */
async function settledAnswer(): Promise<string> {
  // Two equal answers were not enough: a draining old worker can answer twice in a row
  // (seen once in CI). Five in a row over a quarter of a second outlast it.
  const SAME = 5;
  let last = await answer();
  let same = 1;
  for (let i = 0; i < 80 && same < SAME; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const next = await answer();
    same = next === last ? same + 1 : 1;
    last = next;
  }
  return last;
}

test('setUpstreams moves traffic to the new backend and verify proves who answers', async (t) => {
  assert.equal(await answer(), 'backend a');
  const options = {
    file: nginx.upstreamFile,
    commands: nginx.commands,
    probe: { type: 'http' as const, url: `http://127.0.0.1:${nginx.port}/`, expectBody: 'backend b' },
  };
  const action = setUpstreams('edge', { app: [{ host: '127.0.0.1', port: b.port }] }, options);
  await assert.rejects(action.verify(ctx), (e) => e instanceof ActionError && e.code === 'verify-failed');

  const plan = (await action.plan(ctx)).map(renderChange).join('\n');
  assert.match(plan, new RegExp(`-    server 127\\.0\\.0\\.1:${a.port} max_fails=1 fail_timeout=5s;`));
  assert.match(plan, new RegExp(`\\+    server 127\\.0\\.0\\.1:${b.port} max_fails=1 fail_timeout=5s;`));
  assert.match(plan, / -t$/m);
  assert.equal(await answer(), 'backend a', 'plan changed nothing');

  const started = performance.now();
  await action.apply(ctx);
  await action.verify(ctx);
  t.diagnostic(`switch + verify took ${Math.round(performance.now() - started)} ms`);
  assert.equal(await settledAnswer(), 'backend b');
  assert.equal(await readFile(nginx.upstreamFile, 'utf8'), renderUpstreams({ app: [{ host: '127.0.0.1', port: b.port }] }));

  await action.apply(ctx); // applied twice: same file, still serving
  await action.verify(ctx);

  await action.undo!(ctx);
  const back = setUpstreams('edge', { app: [{ host: '127.0.0.1', port: a.port }] }, { ...options, probe: { ...options.probe, expectBody: 'backend a' } });
  await back.verify(ctx);
});

test('a config nginx -t rejects is rolled back and nginx keeps serving the old upstream', async () => {
  const current = await readFile(nginx.upstreamFile, 'utf8');
  const servedBefore = await settledAnswer();
  const action = setUpstreams(
    'edge',
    { app: [{ host: '127.0.0.1', port: b.port }], legacy: [{ host: '127.0.0.1', port: b.port }] },
    { file: nginx.upstreamFile, commands: nginx.commands },
  );
  await assert.rejects(action.apply(ctx), (e) => e instanceof ActionError && e.code === 'apply-failed' && /duplicate upstream/.test(e.message) && /previous file is back and nginx keeps serving/.test(e.message));
  assert.equal(await readFile(nginx.upstreamFile, 'utf8'), current);
  assert.equal(await settledAnswer(), servedBefore);
  await assert.rejects(action.verify(ctx), (e) => e instanceof ActionError && e.code === 'verify-failed');
  const leftovers = (await readdir(dirname(nginx.upstreamFile))).filter((name) => name.includes('lifeboat-tmp'));
  assert.deepEqual(leftovers, []);
});

test('an upstream without servers is refused before anything is written', async () => {
  const action = setUpstreams('edge', { app: [] }, { file: nginx.upstreamFile, commands: nginx.commands });
  await assert.rejects(action.plan(ctx), (e) => e instanceof ActionError && e.code === 'precondition');
  await assert.rejects(action.apply(ctx), (e) => e instanceof ActionError && e.code === 'precondition');
});

test('a reload that fails (nginx not running) is an apply-failed ActionError', async () => {
  const action = setUpstreams('edge', { app: [{ host: '127.0.0.1', port: a.port }] }, {
    file: nginx.upstreamFile,
    commands: { ...nginx.commands, reload: 'echo "nginx: [error] invalid PID number" >&2; exit 1' },
  });
  await assert.rejects(action.apply(ctx), (e) => e instanceof ActionError && e.code === 'apply-failed' && /invalid PID/.test(e.message));
});
