// One SSH connection per machine, reused, reopened after a drop, with connect and keep-alive
// limits that turn a dead or silent machine into a prompt, typed error.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { fleetSchema } from '../../src/fleet/schema.ts';
import { secretResolver } from '../../src/fleet/secrets.ts';
import { fanOut } from '../../src/remote/fanout.ts';
import { RemotePool } from '../../src/remote/pool.ts';
import { RemoteError } from '../../src/remote/remote.ts';
import type { SshRemote, SshRemoteOptions } from '../../src/remote/ssh.ts';
import { sshRemoteTo, startSshd, type Sshd } from '../support/sshd.ts';

const run = promisify(execFile);
const logins = (sshd: Sshd) => sshd.log().split('\n').filter((l) => l.includes('Accepted publickey')).length;

describe('SshRemote connections', () => {
  let sshd: Sshd;
  const opened: SshRemote[] = [];
  function remote(overrides: Partial<SshRemoteOptions> = {}): SshRemote {
    const r = sshRemoteTo(sshd, 'app1', overrides);
    opened.push(r);
    return r;
  }

  before(async () => {
    sshd = await startSshd();
  });
  after(async () => {
    await Promise.allSettled(opened.map((r) => r.close()));
    await sshd?.stop();
  });

  test('many commands and file operations share one connection; reuse is much faster than a fresh login', async () => {
    const r = remote();
    const loginsBefore = logins(sshd);
    for (let i = 0; i < 20; i++) assert.equal((await r.run(`echo ${i}`)).stdout, `${i}\n`);
    const parallel = await fanOut(
      Array.from({ length: 30 }, (_, i) => i),
      6,
      (i) => r.run(`echo ${i}`),
    );
    assert.deepEqual(parallel.filter((p) => !p.ok).map((p) => (p.ok ? "" : String((p.error as Error).message) + " / " + String((p.error as Error).cause))), []);
    await r.writeFile(join(sshd.dir, 'reuse.txt'), 'x');
    await r.readFile(join(sshd.dir, 'reuse.txt'));
    assert.equal(r.stats.connects, 1);
    assert.equal(logins(sshd) - loginsBefore, 1, 'sshd saw more than one login');

    const rounds = 10;
    let t = performance.now();
    for (let i = 0; i < rounds; i++) await r.run('true');
    const reused = (performance.now() - t) / rounds;
    await r.close();
    t = performance.now();
    for (let i = 0; i < rounds; i++) {
      await r.run('true');
      await r.close();
    }
    const fresh = (performance.now() - t) / rounds;
    assert.equal(r.stats.connects, 1 + rounds);
    console.log(`per command: reused connection ${reused.toFixed(1)} ms, fresh connection ${fresh.toFixed(1)} ms (x${(fresh / reused).toFixed(1)})`);
    assert.ok(fresh > reused, 'a fresh login cannot be cheaper than reuse');
  });

  test('after a dropped connection the next command reconnects', async () => {
    const r = remote();
    assert.equal((await r.run('echo one')).stdout, 'one\n');
    await sshd.dropConnections();
    // Give the kernel's FIN (or not) a moment; the command must work either way.
    assert.equal((await r.run('echo two', { timeoutMs: 5000 })).stdout, 'two\n');
    assert.equal(r.stats.connects, 2);
    // Files go over the new connection too.
    await r.writeFile(join(sshd.dir, 'after-drop.txt'), 'ok');
    assert.equal((await r.readFile(join(sshd.dir, 'after-drop.txt'))).toString(), 'ok');
  });

  test('a drop in the middle of a command rejects it (it is not run again)', async () => {
    const r = remote();
    await r.run('true');
    const pending = r.run('sleep 5');
    await new Promise((res) => setTimeout(res, 300));
    await sshd.dropConnections();
    const started = performance.now();
    await assert.rejects(pending, (error: unknown) => error instanceof RemoteError && error.code === 'connect-failed');
    assert.ok(performance.now() - started < 2000);
  });

  test('keep-alive notices a connection gone silent and the next command uses a new one', async () => {
    const r = remote({ keepaliveIntervalMs: 200 });
    await r.run('true');
    await sshd.freezeConnections();
    try {
      // 3 unanswered probes of 200 ms: the dead connection is dropped well within 1.5 s.
      await new Promise((res) => setTimeout(res, 1500));
      assert.equal((await r.run('echo fresh', { timeoutMs: 3000 })).stdout, 'fresh\n');
      assert.equal(r.stats.connects, 2);
    } finally {
      await sshd.dropConnections();
    }
  });

  test('a command on a connection gone silent fails within its own time-out, not keep-alive\'s, and is never sent again', async () => {
    const r = remote({ keepaliveIntervalMs: 10_000 });
    await r.run('true');
    await sshd.freezeConnections();
    try {
      const started = performance.now();
      await assert.rejects(r.run('echo late', { timeoutMs: 800 }), (error: unknown) => error instanceof RemoteError && error.code === 'timeout');
      const took = performance.now() - started;
      assert.ok(took < 2000, `failed after ${took.toFixed(0)} ms, not within its 800 ms time-out`);
      // The silent connection was given up: the next command logs in again.
      assert.equal((await r.run('echo fresh', { timeoutMs: 3000 })).stdout, 'fresh\n');
      assert.equal(r.stats.connects, 2);
    } finally {
      await sshd.dropConnections();
    }
  });

  test('a refused identity is auth-failed', async () => {
    const other = join(sshd.dir, 'stranger');
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
    await assert.rejects(remote({ privateKey: () => readFile(other) }).run('true'), { code: 'auth-failed' });
    await assert.rejects(remote({ privateKey: 'not a key' }).run('true'), { code: 'auth-failed' });
  });

  test('a closed port is connect-failed at once; a silent server is connect-failed after the connect timeout', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const port = (s.address() as { port: number }).port;
        s.close(() => resolve(port));
      });
    });
    let t = performance.now();
    await assert.rejects(remote({ port: closedPort }).run('true'), { code: 'connect-failed' });
    assert.ok(performance.now() - t < 1000);

    const sockets: Socket[] = [];
    const silent: Server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      t = performance.now();
      await assert.rejects(
        remote({ port: (silent.address() as { port: number }).port, connectTimeoutMs: 600 }).run('true'),
        (error: unknown) => error instanceof RemoteError && error.code === 'connect-failed' && /600 ms/.test(error.message),
      );
      const elapsed = performance.now() - t;
      console.log(`silent server refused after ${elapsed.toFixed(0)} ms (connect timeout 600 ms)`);
      assert.ok(elapsed >= 550 && elapsed < 2000, `took ${elapsed} ms`);
    } finally {
      sockets.forEach((s) => s.destroy());
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  test('fanOut over several machines keeps to its limit and reports each machine', async () => {
    const machines = ['m1', 'm2', 'm3', 'm4', 'm5'].map((name) => remote({ machine: name }));
    let active = 0;
    let peak = 0;
    const results = await fanOut(machines, 2, async (r) => {
      active++;
      peak = Math.max(peak, active);
      try {
        if (r.machine === 'm3') return await r.run('exit 7').then((x) => (x.code === 0 ? 'ok' : Promise.reject(new Error(`exit ${x.code}`))));
        return (await r.run('sleep 0.2; echo up')).stdout.trim();
      } finally {
        active--;
      }
    });
    assert.equal(peak, 2);
    assert.deepEqual(
      results.map((x) => `${x.item.machine}:${x.ok ? x.value : (x.error as Error).message}`),
      ['m1:up', 'm2:up', 'm3:exit 7', 'm4:up', 'm5:up'],
    );
  });

  test('RemotePool.forFleet reaches a fleet machine with the identity from a secret reference', async () => {
    const fleet = fleetSchema.parse({
      version: 1,
      name: 'lab',
      ssh: { knownHosts: sshd.knownHostsFile, identity: `file:${sshd.identityFile}`, port: sshd.port },
      machines: [{ name: 'lab-db', address: '127.0.0.1', roles: ['db-primary'] }],
    });
    const pool = RemotePool.forFleet(fleet, { secret: secretResolver({}) });
    try {
      const r = pool.get('lab-db');
      assert.equal(r, pool.get('lab-db'));
      assert.equal((await r.run('echo pooled')).stdout, 'pooled\n');
    } finally {
      await pool.closeAll();
    }
  });
});
