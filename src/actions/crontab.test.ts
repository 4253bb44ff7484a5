// The crontab file written into a temp folder through the real LocalRemote.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fleetSchema } from '../fleet/schema.ts';
import { LocalRemote } from '../remote/local.ts';
import { ActionError, type ActionContext } from './action.ts';
import { installCrontab, removeCrontab, renderCrontab } from './crontab.ts';

const fleet = fleetSchema.parse({
  version: 1,
  name: 'cron',
  machines: [{ name: 'backup', address: '127.0.0.1', roles: ['db-replica'] }],
  crontabs: {
    'db-primary': [
      { schedule: '* * * * *', command: 'python3 /shell/monitor_api_redis.py' },
      { schedule: '0  3 * * *', command: 'python3 /shell/database_backup_speed.py >>/var/log/backup.log 2>&1' },
    ],
    'db-replica': [
      { schedule: '* * * * *', command: 'python3 /shell/monitor_api_redis.py' },
      { schedule: '*/5 * * * *', command: 'python3 /shell/port.py' },
    ],
  },
});

function context(): ActionContext {
  const remote = new LocalRemote('backup');
  return { fleet, remote: () => remote, secret: () => Promise.reject(new Error('none')), log: () => undefined };
}

async function inTemp(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'lifeboat-cron-'));
  try {
    await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('renderCrontab: header, root user field, roles in order, duplicates once', () => {
  const text = renderCrontab(fleet, ['db-primary', 'db-replica']);
  assert.match(text, /^# Managed by lifeboat/);
  const jobs = text.split('\n').filter((l) => l && !l.startsWith('#') && !l.includes('='));
  assert.deepEqual(jobs, [
    '* * * * * root python3 /shell/monitor_api_redis.py',
    '0 3 * * * root python3 /shell/database_backup_speed.py >>/var/log/backup.log 2>&1',
    '*/5 * * * * root python3 /shell/port.py',
  ]);
  assert.ok(text.endsWith('\n'), 'cron ignores a last line without a newline');
});

test('installCrontab writes, verifies, backs up on change, and undoes', async () => {
  await inTemp(async (dir) => {
    const path = join(dir, 'lifeboat');
    const ctx = context();
    const replica = installCrontab('backup', ['db-replica'], { path });
    const [change] = await replica.plan(ctx);
    assert.equal(change?.kind, 'file');
    await assert.rejects(stat(path), { code: 'ENOENT' }, 'plan wrote nothing');
    await assert.rejects(replica.verify(ctx), (e) => e instanceof ActionError && e.code === 'verify-failed');
    await replica.apply(ctx);
    await replica.verify(ctx);
    assert.equal((await stat(path)).mode & 0o777, 0o644);

    // Promotion: the primary's jobs replace the replica's; the old file is kept beside it.
    const promoted = installCrontab('backup', ['db-primary'], { path });
    assert.match(JSON.stringify(await promoted.plan(ctx)), /database_backup_speed/);
    await promoted.apply(ctx);
    await promoted.apply(ctx); // idempotent: no second backup
    await promoted.verify(ctx);
    const backups = (await readdir(dir)).filter((n) => n.endsWith('.bak'));
    assert.equal(backups.length, 1);
    assert.match(await readFile(join(dir, backups[0]!), 'utf8'), /port\.py/);
    await assert.rejects(replica.verify(ctx), (e) => e instanceof ActionError && /not the file/.test(e.message));

    await promoted.undo!(ctx);
    await replica.verify(ctx);

    // cron refuses a group-writable file, so verify does too.
    await chmod(path, 0o664);
    await assert.rejects(replica.verify(ctx), (e) => e instanceof ActionError && /mode 664/.test(e.message));
  });
});

test('removeCrontab moves the file aside and undo brings it back', async () => {
  await inTemp(async (dir) => {
    const path = join(dir, 'lifeboat');
    const ctx = context();
    await writeFile(path, renderCrontab(fleet, ['db-primary']), { mode: 0o644 });
    const remove = removeCrontab('backup', { path });
    await remove.apply(ctx);
    await remove.verify(ctx);
    await remove.apply(ctx); // nothing left to remove
    assert.equal((await readdir(dir)).filter((n) => n.endsWith('.bak')).length, 1);
    await remove.undo!(ctx);
    await installCrontab('backup', ['db-primary'], { path }).verify(ctx);
    await assert.rejects(remove.verify(ctx), (e) => e instanceof ActionError && /still there/.test(e.message));
  });
});
