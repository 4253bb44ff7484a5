/**
 * Which copies a store keeps: the newest `hourly` complete copies, plus the newest copy of
 * each of the last `daily` days (UTC) that has one. Incomplete folders (no manifest) are
 * removed once a newer complete copy exists; a younger one may still be arriving.
 */
import type { ActionContext } from '../actions/action.ts';
import { inspectStamp, listStamps } from './catalog.ts';
import { stampDir } from './layout.ts';
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
  return plan;
}
