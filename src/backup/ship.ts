/**
 * Ships a taken copy to every store in parallel: straight from the source to each on-site
 * store (`actions/provision/relay.ts`: an SSH pipe with a key made for that copy, sha256 on
 * both ends, relayed through the operator only where the source cannot reach the store; a
 * store that is the source machine itself copies locally). Off-site stores get the copies
 * sealed on the operator's machine (util/seal.ts: streamed,
 * authenticated AES-GCM; the key and the clear copy never reach them) and a manifest whose
 * HMAC lies beside it. Data files go first, each checked by sha256 ON the store, and the
 * manifest last: a folder without a manifest is an incomplete copy and is never chosen.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import type { ActionContext } from '../actions/action.ts';
import { sha256OfFile } from '../util/file-hash.ts';
import { manifestMac, sealFile } from '../util/seal.ts';
import { BackupError } from './errors.ts';
import { ENCRYPTED_SUFFIX, stampDir } from './layout.ts';
import { MANIFEST_FILE, MANIFEST_MAC_FILE, renderManifest, SEAL_CIPHER, type CopyEntry, type Manifest } from './manifest.ts';
import { isOffsite, type BackupSettings } from './settings.ts';
import { runBash, sha256On, shq } from './remote-shell.ts';
import type { TakenCopies } from './take.ts';
import { moveFile } from '../actions/provision/relay.ts';

export interface ShipResult {
  store: string;
  ok: boolean;
  encrypted: boolean;
  error?: string;
  ms: number;
}

/** Seals every copy in `staging` once, for all off-site stores: the manifest they get. */
async function sealCopies(manifest: Manifest, staging: string, key: string): Promise<Manifest> {
  const copies: CopyEntry[] = [];
  for (const copy of manifest.copies) {
    const clear = join(staging, copy.file);
    // The download is checked before it is sealed: a seal over damaged bytes would authenticate them.
    const sum = await sha256OfFile(clear);
    if (sum !== copy.sha256) throw new BackupError('ship-failed', `${copy.file} arrived on the operator's machine with sha256 ${sum}, expected ${copy.sha256}`);
    const file = copy.file + ENCRYPTED_SUFFIX;
    const sealed = await sealFile(clear, join(staging, file), key);
    copies.push({ ...copy, file, bytes: sealed.bytes, sha256: sealed.sha256, encrypted: true, cipher: SEAL_CIPHER });
  }
  return { ...manifest, copies };
}

export async function shipToStores(ctx: ActionContext, settings: BackupSettings, taken: TakenCopies, source: string, stores: readonly string[], key?: string): Promise<ShipResult[]> {
  const staging = await mkdtemp(join(tmpdir(), 'lifeboat-ship-'));
  try {
    const offsite = stores.filter((store) => isOffsite(ctx.fleet, store));
    if (offsite.length > 0 && key === undefined) throw new BackupError('missing-key', `store(s) ${offsite.join(', ')} are off-site: set backups.encryptionKey so their copies are encrypted`);
    // Off-site stores get copies sealed here: only they need the files on this machine.
    if (offsite.length > 0) {
      const remote = ctx.remote(source);
      for (const copy of taken.manifest.copies) await remote.download(posix.join(taken.workDir, copy.file), join(staging, copy.file));
    }
    const sealed = offsite.length > 0 ? await sealCopies(taken.manifest, staging, key!) : undefined;
    return await Promise.all(stores.map((store) => shipOne(ctx, settings, taken, source, store, staging, offsite.includes(store) ? { manifest: sealed!, key: key! } : { manifest: taken.manifest })));
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

async function shipOne(
  ctx: ActionContext,
  settings: BackupSettings,
  taken: TakenCopies,
  source: string,
  store: string,
  staging: string,
  what: { manifest: Manifest; key?: string },
): Promise<ShipResult> {
  const started = performance.now();
  const { manifest, key } = what;
  const offsite = key !== undefined;
  const dir = stampDir(settings.dumpDir(store), manifest.stamp);
  const remote = ctx.remote(store);
  try {
    // The store's copies hold every row: a folder and files only the store's login reads.
    await runBash(remote, `install -d -m 0700 ${shq(dir)} && chmod 0700 ${shq(dir)}`);
    for (const copy of manifest.copies) {
      const to = posix.join(dir, copy.file);
      // Streamed straight from the source, the copy was hashed on both ends against the manifest.
      let checked = false;
      if (store === source && !offsite) await runBash(remote, `umask 077\ncp -- ${shq(posix.join(taken.workDir, copy.file))} ${shq(to)}`);
      else if (offsite) await remote.upload(join(staging, copy.file), to);
      else checked = (await moveFile(ctx, source, posix.join(taken.workDir, copy.file), store, to, { expectSha256: copy.sha256 })).route === 'direct';
      await runBash(remote, `chmod 0600 -- ${shq(to)}`);
      const sum = checked ? copy.sha256 : await sha256On(remote, to);
      if (sum !== copy.sha256) throw new BackupError('ship-failed', `${store}: ${copy.file} arrived with sha256 ${sum}, expected ${copy.sha256}`);
    }
    const text = renderManifest(manifest);
    // The MAC first, the manifest last: a manifest without its MAC is never trusted.
    if (offsite) await remote.writeFile(posix.join(dir, MANIFEST_MAC_FILE), manifestMac(text, key) + '\n', { mode: 0o600, backup: false });
    await remote.writeFile(posix.join(dir, MANIFEST_FILE), text, { mode: 0o600, backup: false });
    ctx.log(`${store}: copy ${manifest.stamp} stored and verified${offsite ? ' (sealed)' : ''}`);
    return { store, ok: true, encrypted: offsite, ms: Math.round(performance.now() - started) };
  } catch (error) {
    ctx.log(`${store}: shipping ${manifest.stamp} FAILED: ${(error as Error).message}`);
    return { store, ok: false, encrypted: offsite, error: (error as Error).message, ms: Math.round(performance.now() - started) };
  }
}
