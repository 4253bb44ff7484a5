/**
 * `backup verify`: checks the newest copy on every store (present, whole, sha256 ON the store)
 * and then proves the newest good copy can be brought back: it is restored into a scratch
 * instance and its row counts are compared with the manifest.
 */
import type { ActionContext } from '../actions/action.ts';
import { findNewestGoodCopy, inspectStamp, listStamps, type GoodCopy, type StampStatus } from './catalog.ts';
import { BackupError } from './errors.ts';
import { copyOf, type CopyKind } from './manifest.ts';
import { restoreCopy } from './restore.ts';
import { createScratch, type ScratchOptions } from './scratch.ts';
import { isOffsite, type BackupSettings } from './settings.ts';

export interface StoreCheck {
  store: string;
  offsite: boolean;
  /** Checked stamps, newest first (only the newest unless `all`). */
  checked: StampStatus[];
  error?: string;
}

export interface RestoreTest {
  store: string;
  stamp: string;
  kind: CopyKind;
  on: string;
  ok: boolean;
  ms: number;
  detail: string;
}

export interface VerifyReport {
  stores: StoreCheck[];
  restoreTests: RestoreTest[];
  ok: boolean;
}

export interface VerifyOptions {
  /** Check every stamp on every store, not only the newest. */
  all?: boolean;
  /** Restore-test these kinds of the newest good copy; [] skips the restore test. Default both. */
  restoreKinds?: readonly CopyKind[];
  /** Machine that runs the scratch instance; default the store holding the chosen copy. */
  on?: string;
  scratch?: ScratchOptions;
}

export async function checkStores(ctx: ActionContext, settings: BackupSettings, all = false): Promise<StoreCheck[]> {
  return Promise.all(settings.stores.map(async (store): Promise<StoreCheck> => {
    const offsite = isOffsite(ctx.fleet, store);
    try {
      const stamps = await listStamps(ctx, settings, store);
      const checked: StampStatus[] = [];
      for (const stamp of all ? stamps : stamps.slice(0, 1)) checked.push(await inspectStamp(ctx, settings, store, stamp, true));
      return { store, offsite, checked };
    } catch (error) {
      return { store, offsite, checked: [], error: (error as Error).message };
    }
  }));
}

export async function verifyBackups(ctx: ActionContext, settings: BackupSettings, options: VerifyOptions = {}): Promise<VerifyReport> {
  const stores = await checkStores(ctx, settings, options.all ?? false);
  const restoreTests: RestoreTest[] = [];
  for (const kind of options.restoreKinds ?? (['physical', 'logical'] as const)) {
    let good: GoodCopy;
    try {
      good = await findNewestGoodCopy(ctx, settings, { kind });
    } catch (error) {
      if (error instanceof BackupError && error.code === 'no-good-copy') {
        restoreTests.push({ store: '-', stamp: '-', kind, on: '-', ok: false, ms: 0, detail: error.message });
        continue;
      }
      throw error;
    }
    restoreTests.push(await restoreTest(ctx, settings, good, options.on ?? (await scratchMachine(ctx, settings, good.store)), options.scratch));
  }
  const storesOk = stores.every((s) => !s.error && s.checked.length > 0 && s.checked.every((c) => c.health === 'good'));
  return { stores, restoreTests, ok: storesOk && restoreTests.every((t) => t.ok) };
}

/**
 * Where a restore test runs when nobody said: the store holding the copy if MariaDB is
 * installed there (no transfer), else another store or a replica that has it.
 */
async function scratchMachine(ctx: ActionContext, settings: BackupSettings, store: string): Promise<string> {
  const replicas = ctx.fleet.machines.filter((m) => m.roles.includes('db-replica')).map((m) => m.name);
  for (const machine of [store, ...settings.stores, ...replicas]) {
    // A machine that cannot be asked is simply not chosen as the scratch server: the choice
    // reads nothing into the error and changes nothing on it.
    const r = await ctx.remote(machine).run('command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ]', { timeoutMs: 10_000 }).catch(() => undefined);
    if (r?.code === 0) return machine;
  }
  return store;
}

/** Restores one copy into a scratch instance on `on` and compares it with its manifest. */
export async function restoreTest(ctx: ActionContext, settings: BackupSettings, good: GoodCopy, on: string, scratchOptions?: ScratchOptions): Promise<RestoreTest> {
  const started = performance.now();
  const base = { store: good.store, stamp: good.stamp, kind: good.copy.kind, on };
  const remote = ctx.remote(on);
  const scratch = await createScratch(remote, settings.workDir(on), `${good.stamp}-${good.copy.kind}-${on}`, scratchOptions);
  try {
    if (good.copy.kind === 'logical') await scratch.initialize();
    const action = restoreCopy({ copy: good, to: on, settings, target: scratch.local });
    await action.apply(ctx);
    await action.verify(ctx);
    const tables = Object.keys(copyOf(good.manifest, good.copy.kind)?.tables ?? {}).length;
    const drift = action.outcome?.drift.length ? `; drift: ${action.outcome.drift.join('; ')}` : '';
    return { ...base, ok: true, ms: Math.round(performance.now() - started), detail: `restored and matched ${tables} tables${drift}` };
  } catch (error) {
    return { ...base, ok: false, ms: Math.round(performance.now() - started), detail: (error as Error).message };
  } finally {
    await scratch.destroy();
  }
}
