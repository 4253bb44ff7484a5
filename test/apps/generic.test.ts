/**
 * The generic stand-in as the lab runs it, against a real MariaDB and Redis: configured only
 * by a spec and the service's own config files (a .env and a JSON file at the bound keys),
 * it answers the fleet's health check, keeps rows and files a drill can check, reads the
 * fleet's domain table by the fleet's names, logs a singleton's runs, and refuses a bad spec
 * with exit 78.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import type { GenericSpecInput } from '../../src/lab/apps/generic-spec.ts';
import { applySchema, seedDomains } from '../../src/lab/apps/schema.ts';
import { freePort, startMariadb, stopChild, waitFor, type MariadbServer } from '../support/mariadb.ts';
import { startRedis, type RedisServer } from '../support/redis.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const DB = { schema: 'shop', domainTable: { name: 'dns_entries', domainColumn: 'host_name', ipColumn: 'server_ip', statusColumn: 'state', online: 10 } };
let db: MariadbServer;
let redis: RedisServer;
let dir: string;
let child: ChildProcess | undefined;
let port: number;

function spawnStandIn(specFile: string): ChildProcess {
  const c = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'src/lab/apps/main.ts'), '--spec', specFile], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  c.stdout?.resume();
  return c;
}

before(async () => {
  [db, redis] = await Promise.all([startMariadb(), startRedis()]);
  dir = await mkdtemp(join(tmpdir(), 'lifeboat-generic-'));
  const admin = await db.connect();
  try {
    await applySchema(admin, DB);
    await seedDomains(admin, DB, { machines: [{ address: '192.0.2.10', domains: ['shop.example.net'] }, { address: '192.0.2.11', domains: ['m.example.net'] }] });
    await admin.query("UPDATE shop.dns_entries SET state = 20 WHERE host_name = 'm.example.net'");
    await admin.query("CREATE USER 'shop_app'@'%' IDENTIFIED BY 'app-pw'");
    await admin.query("GRANT ALL PRIVILEGES ON shop.* TO 'shop_app'@'%'");
  } finally {
    await admin.end();
  }
  port = await freePort();
  await mkdir(join(dir, 'srv', 'config'), { recursive: true });
  await writeFile(join(dir, 'srv', '.env'), `# the service's own file\nDB_HOST=127.0.0.1\nDB_PORT=${db.port}\n`);
  await writeFile(join(dir, 'srv', 'config', 'cache.json'), JSON.stringify({ cache: { address: `127.0.0.1:${redis.port}` } }));
  const spec: GenericSpecInput = {
    service: 'media',
    ports: [port],
    health: { path: '/health/ready', status: 200 },
    bindings: [
      { service: 'media', file: join(dir, 'srv', '.env'), format: 'env', keys: { DB_HOST: 'mysql-host', DB_PORT: 'mysql-port' } },
      { service: 'media', file: join(dir, 'srv', 'config', 'cache.json'), format: 'json', keys: { 'cache.address': 'redis-address' } },
    ],
    database: { port: 3306, user: 'shop_app', password: 'app-pw', schema: 'shop', domainTable: DB.domainTable },
    redis: { port: 6379 },
    singleton: true,
    dataDirs: [join(dir, 'data', 'media')],
    intervalSeconds: 0.5,
  };
  await writeFile(join(dir, 'srv', '.lifeboat-lab-media.json'), JSON.stringify(spec), { mode: 0o600 });
  child = spawnStandIn(join(dir, 'srv', '.lifeboat-lab-media.json'));
  await waitFor(async () => {
    const res = await fetch(`http://127.0.0.1:${port}/health/ready`, { signal: AbortSignal.timeout(1000) });
    if (res.status !== 200) throw new Error(`health ${res.status}: ${await res.text()}`);
  }, 60_000);
});

after(async () => {
  if (child) await stopChild(child, 5000);
  await Promise.all([db?.stop(), redis?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

const url = (path: string) => `http://127.0.0.1:${port}${path}`;

test('healthy through the fleet\'s own check: database, Redis, data folder and the singleton\'s runs', async () => {
  const res = await fetch(url('/health/ready'));
  assert.equal(res.status, 200);
  assert.deepEqual(Object.keys(((await res.json()) as { checks: object }).checks).sort(), [join(dir, 'data', 'media'), 'mysql', 'redis', 'runs'].sort());
});

test('an acknowledged write is a row of the fleet\'s schema; a file is on disk with the hash it was acknowledged with', async () => {
  const w = await fetch(url('/lab/writes'), { method: 'POST', body: JSON.stringify({ note: 'n1' }), headers: { 'content-type': 'application/json' } });
  assert.equal(w.status, 201);
  const { id } = (await w.json()) as { id: number };
  const conn = await db.connect();
  try {
    const [rows] = await conn.query('SELECT service, note FROM shop.lifeboat_lab_writes WHERE id = ?', [id]);
    assert.deepEqual(rows, [{ service: 'media', note: 'n1' }]);
    // A run every 0.5 s, each held 0.3 s: finished runs appear within a few periods.
    await waitFor(async () => {
      const [runs] = await conn.query('SELECT COUNT(*) AS n FROM shop.lifeboat_lab_runs WHERE service = ? AND finished_at IS NOT NULL', ['media']);
      if (Number((runs as Array<{ n: number }>)[0]!.n) < 2) throw new Error('the singleton has not logged two finished runs');
    }, 10_000);
  } finally {
    await conn.end();
  }
  const data = Buffer.from('hello media');
  const f = await fetch(url('/lab/files?name=a.bin'), { method: 'POST', body: data });
  assert.equal(f.status, 201);
  const ack = (await f.json()) as { sha256: string };
  assert.equal(ack.sha256, createHash('sha256').update(data).digest('hex'));
  assert.deepEqual(await readFile(join(dir, 'data', 'media', 'a.bin')), data);
  assert.equal((await fetch(url('/lab/files?name=..%2Fescape'), { method: 'POST', body: data })).status, 400);
});

test('the domain list is read from the fleet\'s table and columns: online rows only', async () => {
  const res = await fetch(url('/lab/domains'));
  assert.deepEqual(await res.json(), { domains: [{ domain: 'shop.example.net', ip: '192.0.2.10' }] });
});

test('a spec that does not parse, or a bound config file that is missing, exits 78 naming the file', async () => {
  await writeFile(join(dir, 'bad.json'), JSON.stringify({ service: 'x', ports: ['80'] }));
  await writeFile(join(dir, 'missing.json'), JSON.stringify({
    service: 'x', ports: [], bindings: [{ service: 'x', file: join(dir, 'nope.env'), format: 'env', keys: { H: 'mysql-host' } }], singleton: false, dataDirs: [],
  }));
  for (const [file, named] of [['bad.json', 'bad.json'], ['missing.json', 'nope.env']] as const) {
    const c = spawnStandIn(join(dir, file));
    let stderr = '';
    c.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => c.once('exit', resolve));
    assert.equal(code, 78, stderr);
    assert.match(stderr, new RegExp(named.replace('.', '\\.')));
  }
});
