import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openState } from './db.ts';

test('the journal is private: its folder 0700, the database and its WAL files 0600, whatever the umask', async () => {
  const root = await mkdtemp(join(tmpdir(), 'lifeboat-state-'));
  const before = process.umask(0o000);
  try {
    const path = join(root, 'deep', '.lifeboat', 'state.db');
    const db = openState(path);
    db.exec('CREATE TABLE IF NOT EXISTS probe (x)');
    db.prepare('INSERT INTO probe VALUES (1)').run();
    assert.equal((await stat(join(root, 'deep', '.lifeboat'))).mode & 0o777, 0o700);
    for (const f of ['state.db', 'state.db-wal', 'state.db-shm']) assert.equal((await stat(join(root, 'deep', '.lifeboat', f))).mode & 0o777, 0o600, f);
    db.close();
  } finally {
    process.umask(before);
    await rm(root, { recursive: true, force: true });
  }
});
