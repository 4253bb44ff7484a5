/**
 * `restoreCopy`: puts a stored copy into the MariaDB server of a machine, as an Action the
 * recovery scenarios ("both app servers down", "total loss") run like any other step.
 *   physical: bring the copy over, unpack beside the data folder (prepare if needed), stop
 *             MariaDB, old data aside, new data in, chown, start, compare row counts.
 *   logical:  bring the copy over, load it into the running server, compare row counts.
 */
import { posix } from 'node:path';
import { ActionError, type Action, type ActionContext, type Change } from '../actions/action.ts';
import { RemoteCommandError } from '../remote/remote.ts';
import type { GoodCopy } from './catalog.ts';
import { compareCounts } from './counts.ts';
import { BackupError } from './errors.ts';
import { stampOf } from './layout.ts';
import { countRows, type MariadbLocal } from './mariadb-local.ts';
import { loadLogical, physicalPaths, swapBackPhysical, swapInPhysical, unpackPhysical } from './restore-steps.ts';
import type { BackupSettings } from './settings.ts';
import { bash, privateWorkDir, runBash, shq, workDirTemplate } from './remote-shell.ts';
import { bringCopy, plainName } from './transfer.ts';
import { SEAL_CIPHER } from './manifest.ts';

export interface RestoreCopyOptions {
  /** The copy to restore, as `findNewestGoodCopy` returns it. */
  copy: Pick<GoodCopy, 'store' | 'stamp' | 'manifest' | 'copy'>;
  /** Machine whose MariaDB receives the data. */
  to: string;
  settings: BackupSettings;
  /** Overrides how MariaDB is reached on the target (a scratch instance, a test server). */
  target?: MariadbLocal;
  /** Write the load into the binary log (logical only). Default false: replicas are rebuilt afterwards. */
  binlog?: boolean;
  /** Keep the transferred file after the restore. Default false. */
  keepTransfer?: boolean;
}

export interface RestoreOutcome {
  ms: number;
  /** Physical restores: where the previous data was moved (kept for undo). */
  aside?: string;
  drift: string[];
}

const HOUR_MS = 60 * 60_000;

export function restoreCopy(options: RestoreCopyOptions): Action & { outcome?: RestoreOutcome } {
  const { copy, to, settings } = options;
  const kind = copy.copy.kind;
  const tag = `${stampOf(new Date())}-${to}`;
  let aside: string | undefined;
  const targetOf = (ctx: ActionContext): Promise<MariadbLocal> => (options.target ? Promise.resolve(options.target) : settings.mariadb(ctx, to));
  const workPrefix = `lifeboat-restore-${copy.stamp}-${to}`;

  const action: Action & { outcome?: RestoreOutcome } = {
    title: `Restore the ${kind} copy ${copy.stamp} from ${copy.store} into MariaDB on ${to}`,
    machines: [...new Set([copy.store, to])],
    mutating: true,

    async plan(ctx) {
      const local = await targetOf(ctx);
      // The work folder is made when the restore runs (mktemp): the plan shows its template.
      const file = posix.join(workDirTemplate(settings.workDir(to), workPrefix), plainName(copy.copy));
      const changes: Change[] = [
        { kind: 'note', text: `copy ${copy.copy.file} (${copy.copy.bytes} bytes, sha256 ${copy.copy.sha256.slice(0, 12)}…) ${copy.store === to ? 'is already on' : `travels from ${copy.store} to`} ${to}, checked by sha256 on arrival${copy.copy.cipher === SEAL_CIPHER ? ', opened on the operator\'s machine on its way (every chunk authenticated with backups.encryptionKey)' : copy.copy.encrypted ? ', then decrypted with backups.encryptionKey (read from stdin)' : ''}` },
      ];
      if (kind === 'physical') {
        const paths = physicalPaths(local, tag);
        changes.push(
          { kind: 'command', machine: to, command: bash(unpackPhysical(copy.copy, file, local, paths, copy.copy.plainSha256)) },
          { kind: 'command', machine: to, command: local.control.stopCommand() },
          { kind: 'command', machine: to, command: bash(swapInPhysical(local, paths)) },
          { kind: 'command', machine: to, command: local.control.startCommand() },
        );
      } else {
        changes.push({ kind: 'command', machine: to, command: bash(loadLogical(file, local, { binlog: options.binlog ?? false })) });
      }
      changes.push({ kind: 'note', machine: to, text: `compare row counts of ${Object.keys(copy.copy.tables).length} tables with the manifest` });
      return changes;
    },

    async apply(ctx) {
      const started = performance.now();
      const remote = ctx.remote(to);
      const local = await targetOf(ctx);
      const key = copy.copy.encrypted && settings.encryptionKey ? await ctx.secret(settings.encryptionKey) : undefined;
      if (kind === 'physical') await requireSameSeries(ctx, to, copy.manifest.serverVersion);
      const workDir = await privateWorkDir(remote, settings.workDir(to), workPrefix);
      try {
        const brought = await bringCopy(ctx, settings, copy, to, workDir, { ...(key !== undefined ? { key } : {}), deferCheck: kind === 'physical' });
        if (kind === 'physical') {
          const paths = physicalPaths(local, tag);
          let t = performance.now();
          await step(to, 'unpack and check the copy', () => runBash(remote, unpackPhysical(copy.copy, brought.path, local, paths, brought.unchecked), { timeoutMs: 6 * HOUR_MS }));
          ctx.log(`${to}: unpacked and checked ${copy.stamp} beside ${local.datadir} in ${secondsSince(t)} s`);
          t = performance.now();
          await step(to, 'stop MariaDB', () => remote.run(local.control.stopCommand(), { timeoutMs: 5 * 60_000 }));
          await step(to, 'swap the data folder', () => runBash(remote, swapInPhysical(local, paths), { timeoutMs: HOUR_MS }));
          aside = paths.aside;
          ctx.log(`${to}: MariaDB (${local.control.kind}) stopped and data folder swapped in ${secondsSince(t)} s; previous data kept in ${paths.aside} (for undo)`);
          t = performance.now();
          await step(to, 'start MariaDB', () => remote.run(local.control.startCommand(), { timeoutMs: 5 * 60_000 }));
          ctx.log(`${to}: MariaDB answering after ${secondsSince(t)} s`);
        } else {
          const t = performance.now();
          await step(to, 'load the dump', () => runBash(remote, loadLogical(brought.path, local, { binlog: options.binlog ?? false }), { timeoutMs: 12 * HOUR_MS }));
          ctx.log(`${to}: loaded ${copy.copy.file} in ${secondsSince(t)} s`);
        }
      } finally {
        // Cleanup of the transferred copy; the restore's outcome does not depend on it.
        if (!options.keepTransfer) await remote.run(`rm -rf -- ${shq(workDir)}`).catch(() => undefined);
      }
      action.outcome = { ms: Math.round(performance.now() - started), drift: [], ...(aside ? { aside } : {}) };
    },

    async verify(ctx) {
      const local = await targetOf(ctx);
      const actual = await countRows(ctx.remote(to), local, copy.manifest.schema);
      const { failures, drift } = compareCounts(copy.manifest, copy.copy, actual);
      if (failures.length > 0) {
        throw new ActionError('verify-failed', `${to}: restored ${copy.stamp} does not match its manifest: ${failures.join('; ')}`);
      }
      if (drift.length > 0) ctx.log(`${to}: counts differ from a copy taken under writes (expected): ${drift.join('; ')}`);
      if (action.outcome) action.outcome.drift = drift;
    },

    async undo(ctx) {
      if (kind !== 'physical' || !aside) throw new ActionError('not-supported', 'only a physical restore that swapped the data folder can be undone');
      const remote = ctx.remote(to);
      const local = await targetOf(ctx);
      const paths = { ...physicalPaths(local, tag), aside };
      await step(to, 'stop MariaDB', () => remote.run(local.control.stopCommand(), { timeoutMs: 5 * 60_000 }), 'undo-failed');
      await step(to, 'put the old data folder back', () => runBash(remote, swapBackPhysical(local, paths), { timeoutMs: HOUR_MS }), 'undo-failed');
      await step(to, 'start MariaDB', () => remote.run(local.control.startCommand(), { timeoutMs: 5 * 60_000 }), 'undo-failed');
    },
  };
  return action;
}

const secondsSince = (t: number): string => ((performance.now() - t) / 1000).toFixed(2);

/** A data folder only starts under the MariaDB series that wrote it (10.11 → 10.11). */
async function requireSameSeries(ctx: ActionContext, machine: string, written: string): Promise<void> {
  const series = (v: string): string | undefined => /(\d+\.\d+)\.\d+/.exec(v)?.[1];
  const r = await ctx.remote(machine).run('mariadbd --version');
  const installed = series(r.stdout);
  if (!installed) throw new ActionError('precondition', `${machine}: mariadbd is not installed (a physical copy needs MariaDB ${series(written) ?? written})`);
  if (installed !== series(written)) {
    throw new ActionError('precondition', `${machine}: MariaDB ${installed} cannot start a physical copy written by ${written}; restore the logical copy (--kind logical) instead`);
  }
}

/** Runs one step and names it in the error, so the operator knows what state the machine is in. */
async function step(machine: string, what: string, run: () => Promise<{ code: number | null; stderr: string }>, code: 'apply-failed' | 'undo-failed' = 'apply-failed'): Promise<void> {
  try {
    const r = await run();
    if (r.code !== 0) throw new BackupError('restore-failed', `${machine}: ${what} failed: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  } catch (cause) {
    const detail = cause instanceof RemoteCommandError || cause instanceof BackupError ? cause.message : String(cause);
    throw new ActionError(code, `${machine}: could not ${what}: ${detail}`, { cause });
  }
}
