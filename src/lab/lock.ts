/**
 * One mutating lab operation at a time per lab id (`lab up`, `fault`, `heal`, `down`), across
 * processes — a drill may inject a fault while someone runs `lab up` — and within one.
 * The lock is a directory created atomically, holding the owner's pid; a lock whose owner
 * died is taken over.
 */
import { readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LabError } from './errors.ts';
import { LABS_ROOT } from './paths.ts';

const queues = new Map<string, Promise<unknown>>();

function ownerAlive(dir: string): boolean {
  try {
    const pid = Number(readFileSync(join(dir, 'pid'), 'utf8'));
    if (!pid) return false;
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function acquire(dir: string, timeoutMs: number): Promise<void> {
  await mkdir(LABS_ROOT, { recursive: true });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await mkdir(dir);
      await writeFile(join(dir, 'pid'), String(process.pid));
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    // A lock without a pid file yet is being taken right now: only a dead owner is stale.
    let stale = false;
    try {
      readFileSync(join(dir, 'pid'));
      stale = !ownerAlive(dir);
    } catch {
      /* the owner is between mkdir and writing its pid */
    }
    if (stale) await rm(dir, { recursive: true, force: true });
    else if (Date.now() > deadline) throw new LabError('timeout', `another lifeboat process holds ${dir}; try again when it is done`);
    else await new Promise((r) => setTimeout(r, 50));
  }
}

export async function withLabLock<T>(id: string, work: () => Promise<T>, timeoutMs = 180_000): Promise<T> {
  const dir = join(LABS_ROOT, `${id}.lock`);
  const previous = queues.get(id) ?? Promise.resolve();
  const run = previous.catch(() => undefined).then(async () => {
    await acquire(dir, timeoutMs);
    try {
      return await work();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
  queues.set(id, run);
  try {
    return await run;
  } finally {
    if (queues.get(id) === run) queues.delete(id);
  }
}
