// copyTree and extractArchive between two LocalRemotes on temp folders: real tar, gzip,
// zstd, find and sha256sum, as they run on a machine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fleetSchema } from '../fleet/schema.ts';
import { LocalRemote } from '../remote/local.ts';
import type { Remote } from '../remote/remote.ts';
import { ActionError, type ActionContext } from './action.ts';
import { copyTree, extractArchive } from './files.ts';
import { openFile, sealFile } from '../util/seal.ts';

const fleet = fleetSchema.parse({
  version: 1,
  name: 'files',
  // Its machines are folders of this one: copies between them are relayed, never sent over
  // SSH to this machine's own sshd (which would also touch its real authorized_keys).
  ssh: { machineToMachine: false },
  machines: [
    { name: 'primary', address: '127.0.0.1', roles: ['app'] },
    { name: 'spare', address: '127.0.0.2', roles: ['spare'] },
  ],
});

function context(): ActionContext & { logs: string[] } {
  const remotes = new Map<string, Remote>();
  const logs: string[] = [];
  return {
    fleet,
    logs,
    remote: (name) => remotes.get(name) ?? (remotes.set(name, new LocalRemote(name)), remotes.get(name)!),
    secret: () => Promise.reject(new Error('no secrets here')),
    log: (line) => logs.push(line),
  };
}

async function withDirs(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'lifeboat-files-'));
  try {
    await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function sampleTree(root: string): Promise<void> {
  await mkdir(join(root, 'go', 'go-api', 'logs'), { recursive: true });
  await mkdir(join(root, 'go', 'uploads', 'empty'), { recursive: true });
  await writeFile(join(root, 'go', 'go-api', 'config.yaml'), 'database:\n  default:\n    link: "mysql:speed:pw@tcp(10.0.0.1:3306)/speed"\n');
  await writeFile(join(root, 'go', 'go-api', 'go-api'), Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7) % 256)));
  await writeFile(join(root, 'go', 'go-api', 'logs', 'today.log'), 'noise\n');
  await writeFile(join(root, 'go', 'a file with spaces.txt'), 'spaces\n');
  await writeFile(join(root, 'debug.log'), 'noise\n');
  await symlink('go-api/config.yaml', join(root, 'go', 'config-link'));
}

const verifyOf = (action: ReturnType<typeof copyTree>, ctx: ActionContext) => action.verify(ctx);

test('copyTree copies a folder, leaves out what is excluded, and verify compares file by file', async () => {
  await withDirs(async (dir) => {
    const from = join(dir, 'from');
    const to = join(dir, 'to', 'wwwroot');
    await sampleTree(from);
    const ctx = context();
    const temp = join(dir, 'tmp');
    await mkdir(temp);
    const action = copyTree('primary', 'spare', from, { exclude: ['*.log', 'go/go-api/logs'], targetPath: to, remoteTempDir: temp, localTempDir: temp });

    const plan = await action.plan(ctx);
    assert.match(JSON.stringify(plan), /3 files/);
    assert.ok(plan.some((c) => c.kind === 'command' && c.machine === 'primary' && c.command.includes('tar --null --no-recursion')));
    await assert.rejects(stat(to), { code: 'ENOENT' }, 'plan changed nothing');
    await assert.rejects(verifyOf(action, ctx), (e) => e instanceof ActionError && e.code === 'verify-failed');

    await action.apply(ctx);
    await action.verify(ctx);
    assert.equal(await readFile(join(to, 'go', 'a file with spaces.txt'), 'utf8'), 'spaces\n');
    assert.deepEqual(await readdir(join(to, 'go', 'uploads', 'empty')), []);
    assert.equal((await stat(join(to, 'go', 'go-api', 'go-api'))).size, 70_000);
    await assert.rejects(stat(join(to, 'debug.log')), { code: 'ENOENT' });
    await assert.rejects(stat(join(to, 'go', 'go-api', 'logs')), { code: 'ENOENT' });
    assert.ok(ctx.logs.some((l) => /matches primary/.test(l)));
    assert.deepEqual(await readdir(temp), [], 'temp archives are removed');

    // Re-applying after a crash is safe, and the check notices a changed or an extra file.
    await action.apply(ctx);
    await action.verify(ctx);
    await writeFile(join(to, 'go', 'go-api', 'config.yaml'), 'database: {}\n');
    await assert.rejects(verifyOf(action, ctx), (e) => e instanceof ActionError && e.code === 'verify-failed' && /config\.yaml/.test(e.message));
    await action.apply(ctx);
    await action.verify(ctx);
    await writeFile(join(to, 'go', 'stray.txt'), 'x');
    await assert.rejects(verifyOf(action, ctx), (e) => e instanceof ActionError && /stray\.txt: source has missing/.test(e.message));
  });
});

test('copyTree gives the copy to the requested owner', async () => {
  await withDirs(async (dir) => {
    await sampleTree(join(dir, 'from'));
    const ctx = context();
    const action = copyTree('primary', 'spare', join(dir, 'from'), { targetPath: join(dir, 'to'), chown: 'nobody:nogroup' });
    await action.apply(ctx);
    await action.verify(ctx);
    const nobody = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim());
    assert.equal((await stat(join(dir, 'to', 'go', 'go-api', 'config.yaml'))).uid, nobody);
  });
});

test('copyTree refuses a missing source and an exclude pattern that leaves the folder', async () => {
  await withDirs(async (dir) => {
    const ctx = context();
    await assert.rejects(copyTree('primary', 'spare', join(dir, 'nope')).plan(ctx), (e) => e instanceof ActionError && e.code === 'precondition');
    await mkdir(join(dir, 'tmp'));
    await assert.rejects(copyTree('primary', 'spare', join(dir, 'nope'), { remoteTempDir: join(dir, 'tmp') }).apply(ctx), (e) => e instanceof ActionError && e.code === 'apply-failed');
    assert.deepEqual(await readdir(join(dir, 'tmp')), [], 'a failed pack leaves no archive behind');
    assert.throws(() => copyTree('primary', 'spare', dir, { exclude: ['../etc'] }), (e) => e instanceof ActionError && e.code === 'precondition');
  });
});

test('extractArchive unpacks a .tar.zst from a store, checks the sidecar sha256 and the members', async () => {
  await withDirs(async (dir) => {
    const source = join(dir, 'src');
    await sampleTree(source);
    const archive = join(dir, 'workdir', 'wwwroot.tar.zst');
    await mkdir(join(dir, 'workdir'));
    // The same shape as src/backup/take.ts makes: `tar -C <dir> -cf - . | zstd`.
    execFileSync('bash', ['-c', `tar -C '${source}' -cf - . | zstd -q -3 > '${archive}' && sha256sum '${archive}' > '${archive}.sha256'`]);
    const ctx = context();
    const target = join(dir, 'spare-wwwroot');
    const action = extractArchive('primary', archive, 'spare', target);
    const plan = await action.plan(ctx);
    assert.ok(plan.some((c) => c.kind === 'command' && /--zstd/.test(c.command)));
    await assert.rejects(action.verify(ctx), (e) => e instanceof ActionError && e.code === 'verify-failed');
    await action.apply(ctx);
    await action.verify(ctx);
    assert.equal(await readFile(join(target, 'go', 'a file with spaces.txt'), 'utf8'), 'spaces\n');

    await writeFile(join(target, 'go', 'go-api', 'config.yaml'), 'changed\n');
    await assert.rejects(action.verify(ctx), (e) => e instanceof ActionError && /config\.yaml/.test(e.message));

    await writeFile(`${archive}.sha256`, `${'0'.repeat(64)}  ${archive}\n`);
    await assert.rejects(action.apply(ctx), (e) => e instanceof ActionError && e.code === 'apply-failed' && /sha256/.test(e.message));
  });
});

test('extractArchive accepts .tar.gz and refuses unknown formats', async () => {
  await withDirs(async (dir) => {
    const source = join(dir, 'src');
    await sampleTree(source);
    const archive = join(dir, 'shell.tar.gz');
    execFileSync('tar', ['-C', source, '-czf', archive, '.']);
    const ctx = context();
    const action = extractArchive('primary', archive, 'spare', join(dir, 'out'));
    await action.apply(ctx);
    await action.verify(ctx);
    assert.throws(() => extractArchive('primary', join(dir, 'x.zip'), 'spare', dir), (e) => e instanceof ActionError && e.code === 'precondition');
  });
});

test('extractArchive takes chosen members of an installation archive laid out as prepare makes it', async () => {
  await withDirs(async (dir) => {
    const root = join(dir, 'machine');
    await sampleTree(join(root, 'wwwroot'));
    await mkdir(join(root, 'shell'), { recursive: true });
    await writeFile(join(root, 'shell', 'database_backup_speed.py'), 'print(1)\n');
    // src/prepare/install-archive.ts: `tar -C / -czf … wwwroot shell …`, names relative to /.
    const archive = join(dir, 'install-primary-0123456789abcdef.tar.gz');
    execFileSync('tar', ['-C', root, '-czf', archive, 'wwwroot', 'shell']);
    const ctx = context();
    const target = join(dir, 'spare-root');
    const action = extractArchive('primary', archive, 'spare', target, { members: ['wwwroot'], chown: 'nobody' });
    await action.apply(ctx);
    await action.verify(ctx);
    assert.equal(await readFile(join(target, 'wwwroot', 'go', 'a file with spaces.txt'), 'utf8'), 'spaces\n');
    await assert.rejects(stat(join(target, 'shell')), { code: 'ENOENT' }, 'only the chosen members');
    const nobody = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim());
    assert.equal((await stat(join(target, 'wwwroot', 'go', 'go-api', 'config.yaml'))).uid, nobody);
    assert.throws(() => extractArchive('primary', archive, 'spare', '/', { chown: 'nobody' }), (e) => e instanceof ActionError && e.code === 'precondition');
  });
});

test('extractArchive opens an archive sealed for an off-site store on the operator only', async () => {
  await withDirs(async (dir) => {
    await sampleTree(join(dir, 'src'));
    const clear = join(dir, 'install-hk.tar.gz');
    execFileSync('tar', ['-C', join(dir, 'src'), '-czf', clear, '.']);
    const sealed = `${clear}.enc`;
    await sealFile(clear, sealed, 'backup-key');
    execFileSync('bash', ['-c', `cd '${dir}' && sha256sum install-hk.tar.gz.enc > install-hk.tar.gz.enc.sha256`]);
    const ctx = context();
    assert.throws(() => extractArchive('primary', sealed, 'spare', join(dir, 'out')), (e) => e instanceof ActionError && e.code === 'precondition');
    const action = extractArchive('primary', sealed, 'spare', join(dir, 'out'), { decrypt: (from, to) => openFile(from, to, 'backup-key') });
    await action.apply(ctx);
    await action.verify(ctx);
    const wrongKey = extractArchive('primary', sealed, 'spare', join(dir, 'out2'), { decrypt: (from, to) => openFile(from, to, 'wrong') });
    await assert.rejects(wrongKey.apply(ctx), (e) => e instanceof ActionError && e.code === 'apply-failed');
  });
});
