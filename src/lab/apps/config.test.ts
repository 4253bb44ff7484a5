import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ConfigError, configFiles, loadConfig, parseAddress, parseGoframeLink } from './config.ts';

test('GoFrame links: password with @ and :, query parameters, localhost', () => {
  assert.deepEqual(parseGoframeLink('mysql:speed:p@ss:w@tcp(198.51.100.12:3307)/speed?charset=utf8mb4'), {
    host: '198.51.100.12', port: 3307, user: 'speed', password: 'p@ss:w', database: 'speed',
  });
  assert.equal(parseGoframeLink('mysql:speed:x@tcp(localhost)/speed')?.port, 3306);
  assert.equal(parseGoframeLink('mysql://speed:x@localhost/speed'), null);
  assert.equal(parseGoframeLink('mysql:speed:x@tcp(h:99999)/speed'), null);
});

test('addresses: ":8000" means every interface, "[::1]:6379" and host:port', () => {
  assert.deepEqual(parseAddress(':8000'), { host: '', port: 8000 });
  assert.deepEqual(parseAddress('[::1]:6379'), { host: '::1', port: 6379 });
  assert.deepEqual(parseAddress('redis.lab', 6379), { host: 'redis.lab', port: 6379 });
  assert.equal(parseAddress('host:'), null);
  assert.equal(parseAddress('host'), null);
});

async function withFile(service: 'go-api' | 'go-fly' | 'go-job', text: string, run: (root: string) => Promise<void>) {
  const root = await mkdtemp(join(tmpdir(), 'lifeboat-cfg-'));
  try {
    const file = configFiles(service, root).main;
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, text);
    await run(root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

test('go-api config in GoFrame YAML, unknown keys ignored, list of database nodes', async () => {
  const yaml = 'server:\n  address: ":8000"\n  logPath: /var/log\ndatabase:\n  default:\n    - link: "mysql:speed:pw@tcp(127.0.0.1:3306)/speed"\n' +
    'redis:\n  default:\n    address: 127.0.0.1:6379\n    pass: rp\n';
  await withFile('go-api', yaml, async (root) => {
    const c = await loadConfig('go-api', root);
    assert.equal(c.service, 'go-api');
    if (c.service !== 'go-api') return;
    assert.equal(c.listen.port, 8000);
    assert.equal(c.mysql.password, 'pw');
    assert.deepEqual(c.redis, { host: '127.0.0.1', port: 6379, db: 0, password: 'rp' });
    assert.equal(c.sessionTtlSeconds, 3600);
  });
});

test('go-job defaults: a 2 s period and runs that last 60 % of it', async () => {
  await withFile('go-job', 'server: { address: ":8004" }\ndatabase: { default: { link: "mysql:a:b@tcp(h:3306)/speed" } }\n', async (root) => {
    const c = await loadConfig('go-job', root);
    assert.ok(c.service === 'go-job' && c.intervalSeconds === 2 && Math.abs(c.busySeconds - 1.2) < 1e-9);
  });
});

test('config errors carry a code and never the password', async () => {
  const codeOf = async (root: string, service: 'go-api' | 'go-fly') =>
    loadConfig(service, root).then(() => 'loaded', (e: unknown) => (e instanceof ConfigError ? e.code : 'other'));
  await withFile('go-api', 'server: [unclosed', async (root) => assert.equal(await codeOf(root, 'go-api'), 'CONFIG_UNPARSABLE'));
  await withFile('go-api', 'server: { address: ":8000" }\ndatabase: { default: { link: "mysql://u:hunter2@h/speed" } }\n', async (root) => {
    const error = await loadConfig('go-api', root).catch((e: unknown) => e as ConfigError);
    assert.ok(error instanceof ConfigError);
    assert.equal(error.code, 'CONFIG_INVALID');
    assert.match(error.message, /database\.default\.link/);
    assert.doesNotMatch(error.message, /hunter2/);
  });
  assert.equal(await codeOf('/nonexistent-root', 'go-fly'), 'CONFIG_MISSING');
});
