/**
 * Brings one stored copy onto the machine that will restore it, as a plain (decrypted)
 * compressed file whose sha256 matches the manifest. Copies go straight from the store to
 * the target (`actions/provision/relay.ts`), sealed ones through the operator, who alone holds
 * the key; a copy already on the target is used where it lies.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import type { ActionContext } from '../actions/action.ts';
import { BackupError } from './errors.ts';
import { ENCRYPTED_SUFFIX, stampDir } from './layout.ts';
import type { CopyEntry } from './manifest.ts';
import type { BackupSettings } from './settings.ts';
import { runBash, sha256On, shq } from './remote-shell.ts';
import { decryptCommand } from './take.ts';
import { SEAL_CIPHER } from './manifest.ts';
import { sha256OfFile } from '../util/file-hash.ts';
import { openFile, SealError } from '../util/seal.ts';
import { moveFile } from '../actions/provision/relay.ts';

export interface CopyOnTarget {
  /** Plain `.zst` file on the target. */
  path: string;
  /** Set when the final checksum was left to the caller (`deferCheck`): the sha256 `path` must have. */
  unchecked?: string;
  /** Work folder to remove afterwards. */
  workDir: string;
}

export interface StoredCopy {
  store: string;
  stamp: string;
  copy: CopyEntry;
}

export function plainName(copy: CopyEntry): string {
  return copy.encrypted && copy.file.endsWith(ENCRYPTED_SUFFIX) ? copy.file.slice(0, -ENCRYPTED_SUFFIX.length) : copy.file;
}

/**
 * `workDir`: a private folder the caller made for it (`privateWorkDir`) and removes afterwards.
 * `deferCheck`: skip the last sha256 pass over the plain file and hand the expected sum to the
 * caller, who checks it while unpacking (one read instead of two on the critical path).
 */
export async function bringCopy(
  ctx: ActionContext,
  settings: BackupSettings,
  stored: StoredCopy,
  to: string,
  workDir: string,
  options: { key?: string; deferCheck?: boolean } = {},
): Promise<CopyOnTarget> {
  const key = options.key;
  const remote = ctx.remote(to);
  const { copy } = stored;
  const onStore = posix.join(stampDir(settings.dumpDir(stored.store), stored.stamp), copy.file);
  if (copy.cipher === SEAL_CIPHER) return bringSealed(ctx, stored, to, onStore, workDir, key, options.deferCheck ?? false);
  let arrived = onStore;
  // Streamed straight from the store, the copy was hashed on both ends against the manifest.
  let checked = false;
  if (stored.store !== to) {
    arrived = posix.join(workDir, copy.file);
    ctx.log(`${stored.store} → ${to}: transferring ${copy.file} (${copy.bytes} bytes)`);
    try {
      checked = (await moveFile(ctx, stored.store, onStore, to, arrived, { expectSha256: copy.sha256 })).route === 'direct';
    } catch (error) {
      throw new BackupError('restore-failed', `${stored.store} → ${to}: ${copy.file} could not be copied: ${(error as Error).message}`, { cause: error });
    }
  }
  if (!copy.encrypted && options.deferCheck && !checked) return { path: arrived, workDir, unchecked: copy.sha256 };
  if (!checked) {
    const sum = await sha256On(remote, arrived);
    if (sum !== copy.sha256) throw new BackupError('restore-failed', `${to}: ${copy.file} has sha256 ${sum} after transfer, expected ${copy.sha256}`);
  }
  if (!copy.encrypted) return { path: arrived, workDir };
  if (key === undefined) throw new BackupError('missing-key', `${copy.file} on ${stored.store} is encrypted: set backups.encryptionKey to restore it`);
  const plain = posix.join(workDir, plainName(copy));
  const r = await remote.run(`umask 077; ${decryptCommand(arrived, plain)}`, { stdin: key + '\n', timeoutMs: 60 * 60_000 });
  // openssl's message says "bad decrypt" for a wrong key; the code is what we act on.
  if (r.code !== 0) throw new BackupError('missing-key', `${to}: cannot decrypt ${copy.file} (wrong key?)`);
  if (arrived !== onStore) await remote.run(`rm -f -- ${shq(arrived)}`);
  if (options.deferCheck) return { path: plain, workDir, unchecked: copy.plainSha256 };
  const plainSum = await sha256On(remote, plain);
  if (plainSum !== copy.plainSha256) throw new BackupError('restore-failed', `${to}: decrypted ${copy.file} has sha256 ${plainSum}, expected ${copy.plainSha256}`);
  return { path: plain, workDir };
}

/**
 * A sealed copy is opened on the operator's machine, on its way: store → operator (sealed,
 * checked) → opened there, every chunk authenticated → checked → target. The key never
 * reaches the store or the target, and an altered copy stops here, before the target holds
 * a byte of it.
 */
async function bringSealed(ctx: ActionContext, stored: StoredCopy, to: string, onStore: string, workDir: string, key: string | undefined, deferCheck: boolean): Promise<CopyOnTarget> {
  const { copy } = stored;
  if (key === undefined) throw new BackupError('missing-key', `${copy.file} on ${stored.store} is encrypted: set backups.encryptionKey to restore it`);
  const staging = await mkdtemp(join(tmpdir(), 'lifeboat-restore-'));
  try {
    ctx.log(`${stored.store} → ${to}: transferring ${copy.file} (${copy.bytes} bytes, sealed) through this machine`);
    const sealed = join(staging, copy.file);
    await ctx.remote(stored.store).download(onStore, sealed);
    const sum = await sha256OfFile(sealed);
    if (sum !== copy.sha256) throw new BackupError('restore-failed', `${stored.store}: ${copy.file} has sha256 ${sum}, expected ${copy.sha256}`);
    const clear = join(staging, plainName(copy));
    let plainSum: string;
    try {
      plainSum = (await openFile(sealed, clear, key)).sha256;
    } catch (error) {
      if (error instanceof SealError) throw new BackupError('restore-failed', `${stored.store}: ${copy.file} refused: ${error.message}`, { cause: error });
      throw error;
    }
    await rm(sealed, { force: true });
    if (plainSum !== copy.plainSha256) throw new BackupError('restore-failed', `${copy.file} opened to sha256 ${plainSum}, expected ${copy.plainSha256}`);
    const path = posix.join(workDir, plainName(copy));
    await ctx.remote(to).upload(clear, path);
    if (deferCheck) return { path, workDir, unchecked: copy.plainSha256 };
    const arrived = await sha256On(ctx.remote(to), path);
    if (arrived !== copy.plainSha256) throw new BackupError('restore-failed', `${to}: ${plainName(copy)} has sha256 ${arrived} after transfer, expected ${copy.plainSha256}`);
    return { path, workDir };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
