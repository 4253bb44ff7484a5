/**
 * `lifeboat backup run`: choose the source, take both copies there, ship them to every store
 * in parallel (encrypted to off-site ones), verify on arrival, then apply retention. The
 * replacement for the seed's `database_backup_speed.py`.
 */
import type { ActionContext } from '../actions/action.ts';
import { BackupError } from './errors.ts';
import { stampOf } from './layout.ts';
import { COPY_KINDS, type CopyKind, type Manifest } from './manifest.ts';
import { applyRetention } from './retention.ts';
import { isOffsite, type BackupSettings } from './settings.ts';
import { shipToStores, type ShipResult } from './ship.ts';
import { shq } from './remote-shell.ts';
import { chooseSource, type BackupSource } from './source.ts';
import { takeCopies } from './take.ts';

export interface BackupRunOptions {
  kinds?: readonly CopyKind[];
  /** Fixed time for the stamp (tests); default now. */
  now?: Date;
  /** Skip retention after shipping. */
  keepAll?: boolean;
}

export interface BackupRunResult {
  stamp: string;
  source: BackupSource;
  manifest: Manifest;
  shipped: ShipResult[];
  /** True when every store received and verified the copy. */
  ok: boolean;
  ms: number;
}

export async function runBackup(ctx: ActionContext, settings: BackupSettings, options: BackupRunOptions = {}): Promise<BackupRunResult> {
  const started = performance.now();
  const stamp = stampOf(options.now ?? new Date());
  const offsite = settings.stores.filter((s) => isOffsite(ctx.fleet, s));
  if (offsite.length > 0 && !settings.encryptionKey) {
    throw new BackupError('missing-key', `store(s) ${offsite.join(', ')} are off-site: set backups.encryptionKey so their copies are encrypted`);
  }
  const key = offsite.length > 0 && settings.encryptionKey ? await ctx.secret(settings.encryptionKey) : undefined;
  const source = await chooseSource(ctx, settings);
  ctx.log(`backup ${stamp} from ${source.reason}`);
  const taken = await takeCopies(ctx, settings, source, { kinds: options.kinds ?? COPY_KINDS, stamp });
  let shipped: ShipResult[];
  try {
    shipped = await shipToStores(ctx, settings, taken, source.machine, settings.stores, key);
  } finally {
    await ctx.remote(source.machine).run(`rm -rf -- ${shq(taken.workDir)}`).catch(() => undefined); // cleanup of the work folder only
  }
  if (!options.keepAll) {
    for (const result of shipped.filter((s) => s.ok)) {
      await applyRetention(ctx, settings, result.store).catch((error: unknown) => ctx.log(`${result.store}: retention failed: ${(error as Error).message}`));
    }
  }
  return { stamp, source, manifest: taken.manifest, shipped, ok: shipped.every((s) => s.ok), ms: Math.round(performance.now() - started) };
}
