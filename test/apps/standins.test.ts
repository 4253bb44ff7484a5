/**
 * Every stand-in run as a real process (main.ts) against a real MariaDB and Redis, with its
 * config files in the real formats under a temp root.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RowDataPacket } from 'mysql2/promise';
import { Redis } from 'ioredis';
import { configFiles } from '../../src/lab/apps/config.ts';
import { countOverlappingRuns } from '../../src/lab/apps/job-runs.ts';
import { freePort, stopChild } from '../support/mariadb.ts';
import { get, post, startFixture, writeConfigs, type Fixture } from './fixture.ts';

let fx: Fixture;
before(async () => {
  fx = await startFixture();
  await Promise.all(['go-api', 'go-admin', 'go-fly', 'go-upload'].map((s) => fx.spawnService(s as 'go-api')));
});
after(async () => fx?.stop());

const url = (service: keyof Fixture['ports'], path: string) => `http://127.0.0.1:${fx.ports[service]}${path}`;

test('go-api: register, login with a session TTL in Redis, first heartbeat of the day only', async () => {
  const name = `u${randomBytes(4).toString('hex')}`;
  const reg = await post(url('go-api', '/api/register'), { username: name, password: 'pw-1' });
  assert.equal(reg.status, 201);
  assert.ok(Number(reg.json.id) > 0);
  assert.equal((await post(url('go-api', '/api/register'), { username: name, password: 'x' })).status, 409);
  assert.equal((await post(url('go-api', '/api/login'), { username: name, password: 'wrong' })).status, 401);
  const login = await post(url('go-api', '/api/login'), { username: name, password: 'pw-1' });
  assert.equal(login.status, 200);
  const token = String(login.json.token);

  const redis = new Redis({ host: '127.0.0.1', port: fx.redis.port });
  try {
    const ttl = await redis.ttl(`session:${token}`);
    assert.ok(ttl > 590 && ttl <= 600, `session TTL ${ttl}`);
  } finally {
    redis.disconnect();
  }

  const first = await post(url('go-api', '/api/heartbeat'), {}, { authorization: `Bearer ${token}` });
  assert.equal(first.status, 200);
  assert.equal(first.json.first, true);
  const second = await post(url('go-api', '/api/heartbeat'), { token });
  assert.equal(second.json.first, false);
  assert.equal((await post(url('go-api', '/api/heartbeat'), { token: 'nope' })).status, 401);
  const conn = await fx.db.connect('speed');
  try {
    const [rows] = await conn.query<RowDataPacket[]>('SELECT datestr FROM user_logs WHERE user_id = ?', [reg.json.id]);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.datestr, first.json.datestr);
    const [ddl] = await conn.query<RowDataPacket[]>('SHOW CREATE TABLE user_logs');
    assert.match(String(ddl[0]!['Create Table']), /UNIQUE KEY `uk_user_date` \(`user_id`,`datestr`\)/);
    assert.match(String(ddl[0]!['Create Table']), /COMMENT='user log table, first event only'/);
  } finally {
    await conn.end();
  }
});

test('go-admin: lists online domains, takes a dead IP offline and back', async () => {
  const list = async () => ((await get(url('go-admin', '/admin/domains'))).json.domains as { domain: string }[]).map((d) => d.domain);
  assert.deepEqual(await list(), ['a.example.com', 'b.example.com', 'c.example.com']);
  const off = await post(url('go-admin', '/admin/domains/offline'), { ip: '198.51.100.21' });
  assert.equal(off.json.changed, 2);
  assert.deepEqual(await list(), ['c.example.com']);
  await post(url('go-admin', '/admin/domains/online'), { ip: '198.51.100.21' });
  assert.deepEqual(await list(), ['a.example.com', 'b.example.com', 'c.example.com']);
});

test('go-fly: a posted message is returned after its predecessor', async () => {
  const a = await post(url('go-fly', '/chat/messages'), { sender: 's1', body: 'hello' });
  const b = await post(url('go-fly', '/chat/messages'), { sender: 's1', body: 'again' });
  assert.equal(a.status, 201);
  const after = await get(url('go-fly', `/chat/messages?after=${a.json.id}`));
  assert.deepEqual((after.json.messages as { id: number; body: string }[]).map((m) => [m.id, m.body]), [[b.json.id, 'again']]);
  assert.equal((await get(url('go-fly', '/chat/messages?after=-1'))).status, 400);
});

test('go-upload: the file lands on local disk with the acknowledged sha256', async () => {
  const data = randomBytes(3000);
  const res = await fetch(url('go-upload', '/upload/files?name=f-1.bin'), { method: 'POST', body: data });
  assert.equal(res.status, 201);
  const ack = (await res.json()) as { sha256: string; bytes: number };
  assert.equal(ack.sha256, createHash('sha256').update(data).digest('hex'));
  assert.equal(ack.bytes, 3000);
  const onDisk = await readFile(join(fx.root, 'wwwroot/go/go-upload/uploads/f-1.bin'));
  assert.ok(onDisk.equals(data));
  const back = await fetch(url('go-upload', '/upload/files/f-1.bin'));
  assert.ok(Buffer.from(await back.arrayBuffer()).equals(data));
  assert.equal((await fetch(url('go-upload', '/upload/files?name=../x'), { method: 'POST', body: 'x' })).status, 400);
  assert.equal((await fetch(url('go-upload', '/upload/files/missing'))).status, 404);
});

test('go-job expires users; two go-jobs on different hosts show up as overlapping runs', async () => {
  const reg = await post(url('go-api', '/api/register'), { username: 'short-lived', password: 'p', expiresInSeconds: 0 });
  const conn = await fx.db.connect('speed');
  const since = new Date(Date.now() - 1000);
  try {
    const job = await fx.spawnService('go-job');
    const expired = async () => {
      const [rows] = await conn.query<RowDataPacket[]>('SELECT expired FROM users WHERE id = ?', [reg.json.id]);
      return Number(rows[0]!.expired);
    };
    for (let i = 0; i < 30 && (await expired()) !== 1; i++) await new Promise((r) => setTimeout(r, 200));
    assert.equal(await expired(), 1);
    assert.equal((await post(url('go-api', '/api/login'), { username: 'short-lived', password: 'p' })).status, 403);
    await new Promise((r) => setTimeout(r, 1200));
    assert.equal(await countOverlappingRuns(conn, 'speed', since), 0, 'one go-job alone never overlaps');

    // A second go-job in its own UTS namespace: another host name, same database.
    const ports = { ...fx.ports, 'go-job': await freePort() };
    const rootB = join(fx.root, 'host-b');
    await writeConfigs(rootB, `127.0.0.1:${fx.db.port}`, `127.0.0.1:${fx.redis.port}`, ports, fx.speedPassword);
    const jobB = fx.spawnRaw('go-job', rootB, ['unshare', '--uts', 'sh', '-c', 'hostname go-job-b && exec "$@"', 'sh']);
    let output = '';
    jobB.stdout?.on('data', (d: Buffer) => { output += d.toString(); });
    jobB.stderr?.on('data', (d: Buffer) => { output += d.toString(); });
    const runsOfB = async () => {
      const [rows] = await conn.query<RowDataPacket[]>(
        "SELECT COUNT(*) n FROM job_runs WHERE host = 'go-job-b' AND finished_at IS NOT NULL");
      return Number(rows[0]!.n);
    };
    for (let i = 0; i < 50 && (await runsOfB()) < 3; i++) await new Promise((r) => setTimeout(r, 200));
    assert.ok((await runsOfB()) >= 3, `the second go-job recorded runs: ${output}`);
    assert.ok((await countOverlappingRuns(conn, 'speed', since)) > 0, 'concurrent schedulers overlap');

    await stopChild(jobB, 5000);
    const exit = new Promise((r) => job.once('exit', (code) => r(code)));
    process.kill(job.pid!, 'SIGTERM');
    assert.equal(await exit, 0, 'graceful SIGTERM exits 0');
    const [open] = await conn.query<RowDataPacket[]>('SELECT COUNT(*) n FROM job_runs WHERE finished_at IS NULL');
    assert.equal(Number(open[0]!.n), 0, 'a graceful stop finishes its run');
  } finally {
    await conn.end();
  }
});

test('healthz answers 503 within 2 s when MariaDB is unreachable', async () => {
  const root = join(fx.root, 'dead-db');
  const ports = { ...fx.ports, 'go-admin': await freePort() };
  await writeConfigs(root, `127.0.0.1:${await freePort()}`, `127.0.0.1:${fx.redis.port}`, ports, fx.speedPassword);
  const child = fx.spawnRaw('go-admin', root);
  try {
    let res: Response | undefined;
    for (let i = 0; i < 50 && !res; i++) {
      res = await fetch(`http://127.0.0.1:${ports['go-admin']}/healthz`).catch(() => undefined);
      if (!res) await new Promise((r) => setTimeout(r, 200));
    }
    const started = Date.now();
    res = await fetch(`http://127.0.0.1:${ports['go-admin']}/healthz`);
    assert.equal(res.status, 503);
    assert.ok(Date.now() - started < 2000);
    assert.equal((await fetch(`http://127.0.0.1:${ports['go-admin']}/admin/domains`)).status, 503);
  } finally {
    await stopChild(child, 5000);
  }
});

test('a bad config file exits 78 naming the key, never printing the password', async () => {
  const root = join(fx.root, 'bad');
  await writeConfigs(root, '127.0.0.1:3306', '127.0.0.1:6379', fx.ports, 'secret-pw-123');
  const file = configFiles('go-fly', root).main;
  // Real go-fly reads Port as a string; a number must be refused, not guessed.
  await writeFile(file, JSON.stringify({ Server: '127.0.0.1', Port: 3306, Database: 'speed', Username: 'speed', Password: 'secret-pw-123' }));
  const child = fx.spawnRaw('go-fly', root);
  let err = '';
  child.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
  const code = await new Promise((r) => child.once('exit', (c) => r(c)));
  assert.equal(code, 78);
  assert.match(err, /mysql\.json: Port: expected the port as a string/);
  assert.doesNotMatch(err, /secret-pw-123/);
});

test('go-upload on a full disk: 503, and the failed upload leaves no partial file behind', async () => {
  const root = join(fx.root, 'full-disk');
  const ports = { ...fx.ports, 'go-upload': await freePort() };
  await writeConfigs(root, `127.0.0.1:${fx.db.port}`, `127.0.0.1:${fx.redis.port}`, ports, fx.speedPassword);
  const uploads = join(root, 'wwwroot/go/go-upload/uploads');
  // A 64 KiB tmpfs in a private mount namespace: gone with the process, nothing on the machine.
  const child = fx.spawnRaw('go-upload', root, ['unshare', '--mount', '--propagation', 'private', 'sh', '-c',
    'mkdir -p "$0" && mount -t tmpfs -o size=64k lab-full "$0" && exec "$@"', uploads]);
  const base = `http://127.0.0.1:${ports['go-upload']}`;
  try {
    let up = false;
    for (let i = 0; i < 100 && !up; i++) {
      up = (await fetch(`${base}/healthz`).catch(() => undefined))?.status === 200;
      if (!up) await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(up, 'go-upload answered');
    const put = (name: string, bytes: number) => fetch(`${base}/upload/files?name=${name}`, { method: 'POST', body: randomBytes(bytes) });
    assert.equal((await put('a.bin', 40_000)).status, 201);
    assert.equal((await put('b.bin', 40_000)).status, 503, 'no space left');
    // Fits only if the half-written b.bin was removed.
    assert.equal((await put('c.bin', 20_000)).status, 201);
    assert.equal((await fetch(`${base}/upload/files/b.bin`)).status, 404);
  } finally {
    await stopChild(child, 5000);
  }
});
