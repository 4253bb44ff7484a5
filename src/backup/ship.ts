/**
 * Ships a taken copy to every store in parallel: through the operator's connections
 * (download once from the source, upload to each store; a store that is the source machine
 * itself copies locally), since the lab gives hosts no SSH keys to each other. Data files go
 * first, each checked by sha256 ON the store, and the manifest last: a folder without a
 * manifest is an incomplete copy and is never chosen.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import type { ActionContext } from '../actions/action.ts';
import { BackupError } from './errors.ts';
import { stampDir } from './layout.ts';
import { MANIFEST_FILE, renderManifest, type Manifest } from './manifest.ts';
import { isOffsite, type BackupSettings } from './settings.ts';
import { runBash, sha256On, shq } from './remote-shell.ts';
import type { TakenCopies } from './take.ts';

export interface ShipResult {
  store: string;
  ok: boolean;
  encrypted: boolean;
  error?: string;
  ms: number;
}

/** The manifest an off-site store gets: same copies, but the encrypted files and their sums. */
export function manifestFor(taken: TakenCopies, offsite: boolean): Manifest {
  if (!offsite) return taken.manifest;
  return {
    ...taken.manifest,
    copies: taken.manifest.copies.map((copy) => {
      const enc = taken.encrypted.get(copy.file);
      if (!enc) throw new BackupError('missing-key', `no encrypted version of ${copy.file} for an off-site store`);
      return { ...copy, file: enc.file, bytes: enc.bytes, sha256: enc.sha256, encrypted: true };
    }),
  };
}

export async function shipToStores(ctx: ActionContext, settings: BackupSettings, taken: TakenCopies, source: string, stores: readonly string[]): Promise<ShipResult[]> {
  const staging = await mkdtemp(join(tmpdir(), 'lifeboat-ship-'));
  try {
    const needed = new Set<string>();
    for (const store of stores) {
      if (store === source) continue;
      for (const copy of manifestFor(taken, isOffsite(ctx.fleet, store)).copies) needed.add(copy.file);
    }
    const remote = ctx.remote(source);
    for (const file of needed) await remote.download(posix.join(taken.workDir, file), join(staging, file));
    return await Promise.all(stores.map((store) => shipOne(ctx, settings, taken, source, store, staging)));
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

async function shipOne(ctx: ActionContext, settings: BackupSettings, taken: TakenCopies, source: string, store: string, staging: string): Promise<ShipResult> {
  const started = performance.now();
  const offsite = isOffsite(ctx.fleet, store);
  const manifest = manifestFor(taken, offsite);
  const dir = stampDir(settings.dumpDir(store), manifest.stamp);
  const remote = ctx.remote(store);
  try {
    // The store's copies hold every row: a folder and files only the store's login reads.
    await runBash(remote, `install -d -m 0700 ${shq(dir)} && chmod 0700 ${shq(dir)}`);
    for (const copy of manifest.copies) {
      const to = posix.join(dir, copy.file);
      if (store === source) await runBash(remote, `umask 077\ncp -- ${shq(posix.join(taken.workDir, copy.file))} ${shq(to)}`);
      else await remote.upload(join(staging, copy.file), to);
      await runBash(remote, `chmod 0600 -- ${shq(to)}`);
      const sum = await sha256On(remote, to);
      if (sum !== copy.sha256) throw new BackupError('ship-failed', `${store}: ${copy.file} arrived with sha256 ${sum}, expected ${copy.sha256}`);
    }
    await remote.writeFile(posix.join(dir, MANIFEST_FILE), renderManifest(manifest), { mode: 0o600, backup: false });
    ctx.log(`${store}: copy ${manifest.stamp} stored and verified${offsite ? ' (encrypted)' : ''}`);
    return { store, ok: true, encrypted: offsite, ms: Math.round(performance.now() - started) };
  } catch (error) {
    ctx.log(`${store}: shipping ${manifest.stamp} FAILED: ${(error as Error).message}`);
    return { store, ok: false, encrypted: offsite, error: (error as Error).message, ms: Math.round(performance.now() - started) };
  }
}
