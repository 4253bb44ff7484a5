/**
 * The one test suite every `Remote` implementation must pass (run by local.test.ts for
 * `LocalRemote` and by test/remote/ssh.test.ts for `SshRemote` against a real sshd). The far
 * side of every implementation under test is this very machine, so the suite may prepare and
 * inspect local folders, but it checks behaviour through the `Remote` wherever it can.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, readdir, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { RemoteError, RemoteFileNotFoundError, RemoteTimeoutError, runChecked, shq, type Remote } from './remote.ts';
import { MAX_STDERR_BYTES, MAX_STDOUT_BYTES } from './bounds.ts';

export interface RemoteUnderTest {
  remote: Remote;
  /** Tears down whatever the setup started (the remote is closed by the suite). */
  cleanup(): Promise<void>;
}

export function remoteContract(name: string, setup: () => Promise<RemoteUnderTest>): void {
  describe(`Remote contract: ${name}`, () => {
    let under: RemoteUnderTest;
    let remote: Remote;
    let dir: string;

    before(async () => {
      under = await setup();
      remote = under.remote;
      dir = await mkdtemp(join(tmpdir(), 'lifeboat-remote-case-'));
    });
    after(async () => {
      await remote?.close();
      await under?.cleanup();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    test('run returns stdout, stderr and the exit code, whatever it is', async () => {
      const ok = await remote.run('echo hello; echo oops >&2');
      assert.equal(ok.code, 0);
      assert.equal(ok.stdout, 'hello\n');
      assert.equal(ok.stderr, 'oops\n');
      assert.ok(ok.ms >= 0);
      const failed = await remote.run('echo partial; exit 3');
      assert.equal(failed.code, 3);
      assert.equal(failed.stdout, 'partial\n');
    });

    test('run has sh -c semantics: pipes, quoting, variables', async () => {
      const result = await runChecked(remote, `printf '%s\\n' ${shq("it's a b")} | tr a-z A-Z; x=1; echo "$x"`);
      assert.equal(result.stdout, "IT'S A B\n1\n");
    });

    test('run feeds stdin and then closes it', async () => {
      const text = await remote.run('cat', { stdin: 'line one\nline two\n' });
      assert.equal(text.stdout, 'line one\nline two\n');
      const binary = randomBytes(64 * 1024);
      const counted = await remote.run('wc -c', { stdin: binary });
      assert.equal(counted.stdout.trim(), String(binary.length));
      // Without stdin a command that reads it sees end-of-file instead of hanging.
      const empty = await remote.run('cat', { timeoutMs: 5000 });
      assert.equal(empty.stdout, '');
    });

    test('run passes extra environment to the command only', async () => {
      const result = await remote.run('printf "%s|%s" "$LIFEBOAT_A" "$LIFEBOAT_B"', {
        env: { LIFEBOAT_A: 'one two', LIFEBOAT_B: "it's" },
      });
      assert.equal(result.stdout, "one two|it's");
      const later = await remote.run('printf "%s" "${LIFEBOAT_A-unset}"');
      assert.equal(later.stdout, 'unset');
    });

    test('run reports a signal death as code null and the signal name', async () => {
      const result = await remote.run('kill -KILL $$');
      assert.equal(result.code, null);
      assert.equal(result.signal, 'SIGKILL');
    });

    test('run rejects with RemoteTimeoutError and kills the whole command tree', async () => {
      const marker = `${30 + (randomBytes(2).readUInt16BE(0) % 1000)}.${process.pid}`;
      const started = performance.now();
      await assert.rejects(remote.run(`sh -c 'sleep ${marker}; true'; true`, { timeoutMs: 400 }), (error: unknown) => {
        assert.ok(error instanceof RemoteTimeoutError);
        assert.equal(error.code, 'timeout');
        assert.equal(error.machine, remote.machine);
        return true;
      });
      const elapsed = performance.now() - started;
      assert.ok(elapsed < 3000, `timeout took ${elapsed} ms`);
      // The brackets keep pgrep from matching the shell that runs it.
      const pattern = `sleep ${marker.replace('.', '[.]')}`;
      let alive = true;
      for (let i = 0; i < 20 && alive; i++) {
        alive = (await remote.run(`pgrep -f ${shq(pattern)}`)).code === 0;
        if (alive) await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(alive, false, 'the sleeping grandchild survived the timeout');
      // The remote is still usable after a timeout.
      assert.equal((await remote.run('echo still here')).stdout, 'still here\n');
    });

    test('run refuses an answer larger than it keeps, and keeps the end of a long stderr', async () => {
      // Bounded by the command's own count: one MiB more than lifeboat keeps.
      await assert.rejects(remote.run(`head -c ${((MAX_STDOUT_BYTES >> 20) + 1) << 20} /dev/zero`, { timeoutMs: 60_000 }), (e: unknown) => e instanceof RemoteError && /more than \d+ MiB on standard output/.test(e.message));
      const r = await remote.run(`head -c ${MAX_STDERR_BYTES * 2} /dev/zero | tr '\\0' x >&2; echo the-end >&2`, { timeoutMs: 60_000 });
      assert.equal(r.code, 0);
      assert.ok(r.stderr.endsWith('the-end\n') && r.stderr.length < MAX_STDERR_BYTES + 100);
    });

    test('many commands in parallel all complete', async () => {
      const results = await Promise.all(Array.from({ length: 24 }, (_, i) => remote.run(`echo ${i}`)));
      assert.deepEqual(
        results.map((r) => r.stdout.trim()),
        Array.from({ length: 24 }, (_, i) => String(i)),
      );
    });

    test('readFile returns bytes and rejects with RemoteFileNotFoundError when missing', async () => {
      const path = join(dir, 'read-me.bin');
      const bytes = randomBytes(100_000);
      await writeFile(path, bytes);
      assert.ok((await remote.readFile(path)).equals(bytes));
      await assert.rejects(remote.readFile(join(dir, 'missing.txt')), (error: unknown) => {
        assert.ok(error instanceof RemoteFileNotFoundError);
        assert.equal(error.code, 'file-not-found');
        assert.equal(error.path, join(dir, 'missing.txt'));
        return true;
      });
    });

    test('writeFile creates a new file with the given mode and no backup', async () => {
      const path = join(dir, 'new.conf');
      const result = await remote.writeFile(path, 'a = 1\n', { mode: 0o640 });
      assert.deepEqual(result, { unchanged: false });
      assert.equal((await remote.readFile(path)).toString(), 'a = 1\n');
      assert.equal((await stat(path)).mode & 0o777, 0o640);
    });

    test('writeFile keeps a backup, the mode and the owner, and leaves no temp file', async () => {
      const sub = join(dir, 'edit');
      await mkdir(sub);
      const path = join(sub, 'app.yaml');
      await writeFile(path, 'host: old\n');
      await chmod(path, 0o600);
      await runChecked(remote, `chown 65534:65534 ${shq(path)}`);

      const result = await remote.writeFile(path, 'host: new\n');
      assert.equal(result.unchanged, false);
      assert.ok(result.backupPath, 'expected a backup path');
      assert.match(result.backupPath, /\/app\.yaml\.lifeboat-\d{8}T\d{6}Z(-\d+)?\.bak$/);
      assert.equal((await remote.readFile(result.backupPath)).toString(), 'host: old\n');
      assert.equal((await remote.readFile(path)).toString(), 'host: new\n');
      const after = await stat(path);
      assert.equal(after.mode & 0o7777, 0o600);
      assert.equal(after.uid, 65534);
      assert.equal(after.gid, 65534);

      // A second edit in the same second keeps both backups.
      const second = await remote.writeFile(path, 'host: newer\n');
      assert.ok(second.backupPath && second.backupPath !== result.backupPath);
      assert.equal((await remote.readFile(second.backupPath)).toString(), 'host: new\n');

      const names = (await readdir(sub)).sort();
      assert.equal(names.length, 3, `unexpected files: ${names.join(', ')}`);
      assert.ok(!names.some((n) => n.includes('tmp')), `temp file left: ${names.join(', ')}`);
    });

    test('writeFile with identical content writes nothing', async () => {
      const sub = join(dir, 'same');
      await mkdir(sub);
      const path = join(sub, 'same.txt');
      await remote.writeFile(path, Buffer.from('same\n'));
      const before = await stat(path);
      const result = await remote.writeFile(path, 'same\n');
      assert.deepEqual(result, { unchanged: true });
      const after = await stat(path);
      assert.equal(after.ino, before.ino);
      assert.equal(after.mtimeMs, before.mtimeMs);
      assert.deepEqual(await readdir(sub), ['same.txt']);
    });

    test('writeFile with backup: false replaces without a backup', async () => {
      const sub = join(dir, 'nobackup');
      await mkdir(sub);
      const path = join(sub, 'f.txt');
      await writeFile(path, 'one');
      const result = await remote.writeFile(path, 'two', { backup: false });
      assert.deepEqual(result, { unchanged: false });
      assert.deepEqual(await readdir(sub), ['f.txt']);
    });

    test('writeFile edits the target of a symlink and keeps the link', async () => {
      const sub = join(dir, 'linked');
      await mkdir(sub);
      await writeFile(join(sub, 'real.conf'), 'old');
      await symlink('real.conf', join(sub, 'link.conf'));
      await remote.writeFile(join(sub, 'link.conf'), 'new');
      assert.equal(await readFile(join(sub, 'real.conf'), 'utf8'), 'new');
      assert.equal((await remote.run(`readlink ${shq(join(sub, 'link.conf'))}`)).stdout.trim(), 'real.conf');
    });

    test('writeFile into a missing folder fails with a RemoteError', async () => {
      await assert.rejects(remote.writeFile(join(dir, 'no/such/dir/f'), 'x'), (error: unknown) => {
        assert.ok(error instanceof RemoteError);
        return true;
      });
    });

    test('upload and download copy folders recursively, keeping modes', async () => {
      const source = join(dir, 'src-tree');
      await mkdir(join(source, 'bin/deep'), { recursive: true });
      await writeFile(join(source, 'config.yaml'), 'port: 8080\n');
      await writeFile(join(source, 'bin/run.sh'), '#!/bin/sh\necho run\n');
      await chmod(join(source, 'bin/run.sh'), 0o750);
      const big = randomBytes(300_000);
      await writeFile(join(source, 'bin/deep/blob'), big);
      await mkdir(join(source, 'empty'));
      await symlink('config.yaml', join(source, 'current.yaml'));

      const remoteCopy = join(dir, 'remote-side/installed/app');
      await remote.upload(source, remoteCopy);
      assert.equal((await remote.readFile(join(remoteCopy, 'config.yaml'))).toString(), 'port: 8080\n');
      assert.equal((await runChecked(remote, shq(join(remoteCopy, 'bin/run.sh')))).stdout, 'run\n');
      assert.ok((await remote.readFile(join(remoteCopy, 'bin/deep/blob'))).equals(big));
      assert.equal((await stat(join(remoteCopy, 'empty'))).isDirectory(), true);

      // Uploading again over an existing copy refreshes it in place.
      await writeFile(join(source, 'config.yaml'), 'port: 9090\n');
      await remote.upload(source, remoteCopy);
      assert.equal((await remote.readFile(join(remoteCopy, 'config.yaml'))).toString(), 'port: 9090\n');

      const back = join(dir, 'downloaded');
      await remote.download(remoteCopy, back);
      assert.equal(await readFile(join(back, 'config.yaml'), 'utf8'), 'port: 9090\n');
      assert.equal((await stat(join(back, 'bin/run.sh'))).mode & 0o777, 0o750);
      assert.ok((await readFile(join(back, 'bin/deep/blob'))).equals(big));
      assert.deepEqual((await readdir(back)).sort(), ['bin', 'config.yaml', 'current.yaml', 'empty']);
      // Symlinks travel as symlinks, both ways.
      assert.equal((await remote.run(`readlink ${shq(join(remoteCopy, 'current.yaml'))}`)).stdout.trim(), 'config.yaml');
      assert.equal(await readlink(join(back, 'current.yaml')), 'config.yaml');
    });

    test('upload and download copy single files', async () => {
      const file = join(dir, 'single.txt');
      await writeFile(file, 'single\n');
      await remote.upload(file, join(dir, 'up/one/single.txt'));
      assert.equal((await remote.readFile(join(dir, 'up/one/single.txt'))).toString(), 'single\n');
      await remote.download(join(dir, 'up/one/single.txt'), join(dir, 'down/single.txt'));
      assert.equal(await readFile(join(dir, 'down/single.txt'), 'utf8'), 'single\n');
    });

    test('download of a missing path rejects with RemoteFileNotFoundError', async () => {
      await assert.rejects(remote.download(join(dir, 'nothing-here'), join(dir, 'x')), RemoteFileNotFoundError);
    });

    test('close releases the connection and later calls work again', async () => {
      await remote.close();
      assert.equal((await remote.run('echo again')).stdout, 'again\n');
    });
  });
}
