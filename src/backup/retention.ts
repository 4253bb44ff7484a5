/**
 * Which copies a store keeps: the newest `hourly` complete copies, plus the newest copy of
 * each of the last `daily` days (UTC) that has one. Incomplete folders (no manifest) are
 * removed once a newer complete copy exists; a younger one may still be arriving.
 */
import { binlogDir, listShipped, shippedFileParts, shippingStores } from './binlogs.ts';
import type { ActionContext } from '../actions/action.ts';
import { inspectStamp, listStamps } from './catalog.ts';
import { dateOfStamp, stampDir } from './layout.ts';
import type { BackupSettings } from './settings.ts';
import { shq } from './remote-shell.ts';

export interface RetentionPlan {
  keep: string[];
  remove: string[];
}

/** Pure: `complete` and `incomplete` are stamp names; the result keeps newest first. */
export function planRetention(complete: readonly string[], incomplete: readonly string[], retention: { hourly: number; daily: number }): RetentionPlan {
  const sorted = [...complete].sort().reverse();
  const keep = new Set(sorted.slice(0, retention.hourly));
  const days = new Set<string>();
  for (const stamp of sorted) {
    const day = stamp.slice(0, 8);
    if (days.has(day)) continue;
    if (days.size >= retention.daily) break;
    days.add(day);
    keep.add(stamp);
  }
  const newestComplete = sorted[0];
  const remove = sorted.filter((s) => !keep.has(s));
  for (const stamp of incomplete) if (newestComplete !== undefined && stamp < newestComplete) remove.push(stamp);
  return { keep: sorted.filter((s) => keep.has(s)), remove: remove.sort() };
}

export async function applyRetention(ctx: ActionContext, settings: BackupSettings, store: string): Promise<RetentionPlan> {
  const stamps = await listStamps(ctx, settings, store);
  const complete: string[] = [];
  const incomplete: string[] = [];
  for (const stamp of stamps) {
    const status = await inspectStamp(ctx, settings, store, stamp, false);
    (status.manifest ? complete : incomplete).push(stamp);
  }
  const plan = planRetention(complete, incomplete, settings.retention);
  const dumpDir = settings.dumpDir(store);
  for (const stamp of plan.remove) {
    await ctx.remote(store).run(`rm -rf -- ${shq(stampDir(dumpDir, stamp))}`, { timeoutMs: 10 * 60_000 });
  }
  if (plan.remove.length > 0) ctx.log(`${store}: retention removed ${plan.remove.length} old copies, kept ${plan.keep.length}`);
  const oldest = plan.keep[0];
  if (oldest !== undefined) await pruneBinlogs(ctx, store, dateOfStamp(oldest));
  return plan;
}

/**
 * The shipped binary log lives as long as the copies it extends: a file last written before
 * the oldest copy kept (with an hour's margin) holds nothing a restore replays, and goes; the
 * newest file of each source always stays.
 */
async function pruneBinlogs(ctx: ActionContext, store: string, oldestCopy: Date): Promise<void> {
  if (!shippingStores(ctx.fleet).some((m) => m.name === store)) return;
  const before = Math.floor(oldestCopy.getTime() / 1000) - 3600;
  const sources = await listShipped(ctx.remote(store), ctx.fleet).catch(() => []);
  const old = sources.flatMap((s) => s.files.slice(0, -1).filter((f) => f.mtime < before).map((f) => `${binlogDir(ctx.fleet)}/${s.source}/${f.name}`));
  if (old.length === 0) return;
  await ctx.remote(store).run(`rm -f -- ${old.flatMap(shippedFileParts).map(shq).join(' ')}`, { timeoutMs: 60_000 });
  ctx.log(`${store}: retention removed ${old.length} shipped binary log file(s) older than the oldest copy kept`);
}
