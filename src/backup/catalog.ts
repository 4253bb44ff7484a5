/**
 * What each store holds and whether it can be trusted: every stamp folder, its manifest, and
 * for each copy whether the file is there, whole (size) and intact (sha256 computed ON the
 * store). `findNewestGoodCopy` is what a restore uses: a corrupt, truncated or incomplete
 * copy is never chosen.
 */
import { posix } from 'node:path';
import type { ActionContext } from '../actions/action.ts';
import { RemoteFileNotFoundError } from '../remote/remote.ts';
import { BackupError } from './errors.ts';
import { manifestPath, STAMP_PATTERN, stampDir } from './layout.ts';
import { copyOf, MANIFEST_MAC_FILE, parseManifest, SEAL_CIPHER, type CopyEntry, type CopyKind, type Manifest } from './manifest.ts';
import { manifestMacMatches } from '../util/seal.ts';
import { isOffsite, type BackupSettings } from './settings.ts';
import { runBash, shq } from './remote-shell.ts';

export type CopyHealth =
  | 'good'
  /** No manifest: the copy never finished arriving. */
  | 'incomplete'
  | 'bad-manifest'
  | 'missing'
  /** Smaller or larger than the manifest says. */
  | 'truncated'
  /** Right size, wrong sha256: a flipped byte. */
  | 'corrupt'
  /** A sealed copy's manifest whose MAC is missing or wrong: altered or swapped, never restored. */
  | 'tampered'
  /** Checksums not computed (listing without `check`). */
  | 'unchecked';

export interface CopyStatus {
  kind: CopyKind;
  file: string;
  bytes: number;
  health: CopyHealth;
  detail?: string;
}

export interface StampStatus {
  store: string;
  stamp: string;
  manifest?: Manifest;
  /** Health of the stamp folder as a whole when there is no usable manifest. */
  health: CopyHealth;
  copies: CopyStatus[];
  detail?: string;
}

/** Stamp folders on a store, newest first. */
export async function listStamps(ctx: ActionContext, settings: BackupSettings, store: string): Promise<string[]> {
  const dir = settings.dumpDir(store);
  const r = await ctx.remote(store).run(`[ -d ${shq(dir)} ] && ls -1 -- ${shq(dir)} || true`);
  return r.stdout.split('\n').filter((name) => STAMP_PATTERN.test(name)).sort().reverse();
}

/** Reads the manifest and, with `check`, verifies size and sha256 of each listed copy on the store. */
export async function inspectStamp(ctx: ActionContext, settings: BackupSettings, store: string, stamp: string, check = true): Promise<StampStatus> {
  const remote = ctx.remote(store);
  let manifest: Manifest;
  let text: string;
  try {
    text = (await remote.readFile(manifestPath(settings.dumpDir(store), stamp))).toString('utf8');
    manifest = parseManifest(text, `${store}:${stamp}`);
  } catch (error) {
    if (error instanceof RemoteFileNotFoundError) return { store, stamp, health: 'incomplete', copies: [], detail: 'no manifest (never finished arriving)' };
    if (error instanceof BackupError) return { store, stamp, health: 'bad-manifest', copies: [], detail: error.message };
    throw error;
  }
  if (manifest.stamp !== stamp) return { store, stamp, health: 'tampered', copies: [], detail: `the manifest in folder ${stamp} says it is copy ${manifest.stamp}` };
  const unauthenticated = await manifestProblem(ctx, settings, store, stamp, manifest, text);
  if (unauthenticated) return { store, stamp, health: 'tampered', copies: [], detail: unauthenticated };
  const dir = stampDir(settings.dumpDir(store), stamp);
  const copies: CopyStatus[] = [];
  for (const copy of manifest.copies) copies.push(await inspectCopy(ctx, store, dir, copy, check));
  const bad = copies.find((c) => c.health !== 'good' && c.health !== 'unchecked');
  return { store, stamp, manifest, health: bad ? bad.health : copies.every((c) => c.health === 'good') ? 'good' : 'unchecked', copies };
}

async function inspectCopy(ctx: ActionContext, store: string, dir: string, copy: CopyEntry, check: boolean): Promise<CopyStatus> {
  const path = posix.join(dir, copy.file);
  // One round trip: size, then (if asked) the checksum; exit 44 when the file is gone.
  const r = await ctx.remote(store).run(
    `if [ ! -f ${shq(path)} ]; then exit 44; fi; stat -c %s -- ${shq(path)}${check ? `; sha256sum -- ${shq(path)}` : ''}`,
    { timeoutMs: 60 * 60_000 },
  );
  const base = { kind: copy.kind, file: copy.file, bytes: copy.bytes };
  if (r.code === 44) return { ...base, health: 'missing', detail: `${copy.file} is missing` };
  if (r.code !== 0) return { ...base, health: 'missing', detail: `cannot read ${copy.file}: ${r.stderr.trim()}` };
  const [sizeLine, sumLine] = r.stdout.trim().split('\n');
  const size = Number(sizeLine);
  if (size !== copy.bytes) return { ...base, health: 'truncated', detail: `${copy.file} has ${size} bytes, manifest says ${copy.bytes}` };
  if (!check) return { ...base, health: 'unchecked' };
  const sum = sumLine?.split(/\s+/)[0];
  if (sum !== copy.sha256) return { ...base, health: 'corrupt', detail: `${copy.file} sha256 ${sum} differs from the manifest's ${copy.sha256}` };
  return { ...base, health: 'good' };
}

export interface GoodCopy {
  store: string;
  stamp: string;
  manifest: Manifest;
  copy: CopyEntry;
  /** Copies that were newer but failed their checks, for the operator to see. */
  skipped: StampStatus[];
}

export interface FindOptions {
  stores?: readonly string[];
  /** Only copies of this kind; default: physical preferred, logical otherwise. */
  kind?: CopyKind;
  /** The restore target: among equally new copies, one already there needs no transfer. */
  preferStore?: string;
  /** Only copies this accepts (a point-in-time restore needs one taken before its point). */
  accept?: (manifest: Manifest, copy: CopyEntry) => boolean;
}

/**
 * The newest copy that passes its checks, over all stores. Each store is walked newest first
 * and stops at its first good copy, so at most the bad newer ones are checksummed.
 */
export async function findNewestGoodCopy(ctx: ActionContext, settings: BackupSettings, options: FindOptions = {}): Promise<GoodCopy> {
  const stores = options.stores ?? settings.stores;
  const kinds: CopyKind[] = options.kind ? [options.kind] : ['physical', 'logical'];
  const skipped: StampStatus[] = [];
  const perStore = await Promise.all(stores.map(async (store) => {
    try {
      for (const stamp of await listStamps(ctx, settings, store)) {
        const status = await inspectStamp(ctx, settings, store, stamp, false);
        if (!status.manifest) {
          skipped.push(status);
          continue;
        }
        for (const kind of kinds) {
          const entry = copyOf(status.manifest, kind);
          if (!entry || (options.accept && !options.accept(status.manifest, entry))) continue;
          const checked = await inspectCopy(ctx, store, stampDir(settings.dumpDir(store), stamp), entry, true);
          if (checked.health === 'good') return { store, stamp, manifest: status.manifest, copy: entry };
          skipped.push({ ...status, health: checked.health, copies: [checked], ...(checked.detail ? { detail: checked.detail } : {}) });
        }
      }
    } catch (error) {
      ctx.log(`${store}: cannot list backups: ${(error as Error).message}`);
    }
    return undefined;
  }));
  const rank = (c: { store: string; copy: CopyEntry }): number =>
    (c.store === options.preferStore ? 4 : 0) + (isOffsite(ctx.fleet, c.store) ? 0 : 2) + (c.copy.kind === 'physical' ? 1 : 0);
  const found = perStore.filter((c) => c !== undefined).sort((a, b) => (a.stamp === b.stamp ? rank(b) - rank(a) : a.stamp < b.stamp ? 1 : -1));
  const best = found[0];
  if (!best) {
    const why = skipped.map((s) => `${s.store}:${s.stamp} ${s.health}`).join(', ');
    const what = options.kind ? `${options.kind} copy` : 'copy';
    throw new BackupError('no-good-copy', `no good ${what} on ${stores.join(', ')}${why ? ` (rejected: ${why})` : ''}`);
  }
  return { ...best, skipped };
}

/**
 * A manifest listing sealed copies must carry its HMAC under the backup key: row counts, GTID
 * and checksums altered, or an older copy's manifest put in a newer folder, are refused.
 * Undefined when it is authentic (or lists no sealed copy: on-site stores are trusted as the
 * fleet's own machines, and copies sealed before MACs existed have no cipher field).
 */
async function manifestProblem(ctx: ActionContext, settings: BackupSettings, store: string, stamp: string, manifest: Manifest, text: string): Promise<string | undefined> {
  if (!manifest.copies.some((c) => c.cipher === SEAL_CIPHER)) return undefined;
  if (!settings.encryptionKey) return 'sealed copy: set backups.encryptionKey to authenticate its manifest';
  let mac: string;
  try {
    mac = (await ctx.remote(store).readFile(posix.join(stampDir(settings.dumpDir(store), stamp), MANIFEST_MAC_FILE))).toString('utf8');
  } catch (error) {
    if (error instanceof RemoteFileNotFoundError) return 'the manifest of a sealed copy has no MAC beside it';
    throw error;
  }
  return manifestMacMatches(text, mac, await ctx.secret(settings.encryptionKey)) ? undefined : 'the manifest does not match its MAC (altered, or not written with this backup key)';
}
