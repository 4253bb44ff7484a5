/**
 * `lifeboat backup run|list|verify|restore|schedule`: the replacement for the seed's
 * `database_backup_speed.py` and for "find the newest dump in /shell/sql_backup/ and load it".
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { renderChange } from '../../actions/action.ts';
import { findNewestGoodCopy, inspectStamp, listStamps } from '../../backup/catalog.ts';
import { dateOfStamp } from '../../backup/layout.ts';
import { COPY_KINDS, type CopyKind } from '../../backup/manifest.ts';
import { restoreCopy } from '../../backup/restore.ts';
import { checkUntil, replayBinlogs } from '../../backup/binlog-replay.ts';
import { gtidAtOrBefore, shippingStores } from '../../backup/binlogs.ts';
import { runBackup } from '../../backup/run.ts';
import { crontabLine } from '../../backup/schedule.ts';
import { backupSettings, isOffsite } from '../../backup/settings.ts';
import { verifyBackups, type VerifyReport } from '../../backup/verify.ts';
import { EXIT, UsageError } from '../exit.ts';
import { fleetFileOf, fleetOption, legacyFleetArgument, stateFileFrom } from '../options.ts';
import { History } from '../../state/history.ts';
import { openSession, type Session } from '../session.ts';

interface Common {
  fleet?: string;
  json?: boolean;
  acceptNewHostKeys?: boolean;
}

function kindOf(value: string | undefined): CopyKind | undefined {
  if (value === undefined) return undefined;
  if ((COPY_KINDS as readonly string[]).includes(value)) return value as CopyKind;
  throw new UsageError(`--kind: expected ${COPY_KINDS.join(' or ')}, got ${JSON.stringify(value)}`);
}

async function withSession<T>(file: string | undefined, options: Common, work: (session: Session) => Promise<T>): Promise<T> {
  const session = await openSession(fleetFileOf(options, file), { acceptNewHostKeys: options.acceptNewHostKeys ?? false });
  try {
    return await work(session);
  } finally {
    await session.close();
  }
}

const mb = (bytes: number): string => `${(bytes / 1048576).toFixed(1)} MB`;

function age(stamp: string, now = Date.now()): string {
  const minutes = Math.round((now - dateOfStamp(stamp).getTime()) / 60_000);
  if (minutes < 120) return `${minutes} min`;
  if (minutes < 48 * 60) return `${Math.round(minutes / 60)} h`;
  return `${Math.round(minutes / 1440)} d`;
}

export function registerBackup(program: Command): void {
  const backup = program.command('backup').description('Physical and logical database copies on every backup store: take, list, verify, restore');
  const common = (c: Command): Command =>
    fleetOption(legacyFleetArgument(c))
      .option('--json', 'machine-readable output')
      .option('--accept-new-host-keys', 'add unknown SSH host keys to known_hosts (changed keys are always refused)');

  common(backup.command('run'))
    .description('Take a physical (prepared) and a logical copy from a healthy replica (else the primary), ship them to every store, verify on arrival, apply retention')
    .option('--kind <kind>', 'only this kind of copy: physical or logical')
    .option('--keep-all', 'skip retention this time')
    .addHelpText('after', '\nExit codes: 0 every store holds the verified copy, 1 some store failed, 2 bad input.')
    .action(async (file: string | undefined, options: Common & { kind?: string; keepAll?: boolean }) => {
      const kind = kindOf(options.kind);
      await withSession(file, options, async ({ fleet, ctx }) => {
        const result = await runBackup(ctx, backupSettings(fleet), { ...(kind ? { kinds: [kind] } : {}), keepAll: options.keepAll ?? false });
        if (options.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
        else {
          const lines = [`backup ${result.stamp} from ${result.source.machine} (${result.source.role}) in ${(result.ms / 1000).toFixed(1)} s`];
          for (const c of result.manifest.copies) lines.push(`  ${c.kind.padEnd(8)} ${c.file}  ${mb(c.bytes)}  gtid ${c.gtid || '-'}  taken in ${(c.tookMs / 1000).toFixed(1)} s`);
          for (const s of result.shipped) lines.push(`  ${s.ok ? 'ok ' : 'BAD'} ${s.store.padEnd(12)} ${s.encrypted ? 'encrypted ' : ''}${s.ok ? `${(s.ms / 1000).toFixed(1)} s` : s.error}`);
          process.stdout.write(lines.join('\n') + '\n');
        }
        process.exitCode = result.ok ? EXIT.ok : EXIT.unhealthy;
      });
    });

  common(backup.command('list'))
    .description('Per store: the newest copy, its age and size, and whether its checksums verify right now')
    .action(async (file: string | undefined, options: Common) => {
      await withSession(file, options, async ({ fleet, ctx }) => {
        const settings = backupSettings(fleet);
        const rows = await Promise.all(settings.stores.map(async (store) => {
          try {
            const stamps = await listStamps(ctx, settings, store);
            const newest = stamps[0] ? await inspectStamp(ctx, settings, store, stamps[0], true) : undefined;
            return { store, offsite: isOffsite(fleet, store), copies: stamps.length, newest };
          } catch (error) {
            return { store, offsite: isOffsite(fleet, store), copies: 0, error: (error as Error).message };
          }
        }));
        if (options.json) {
          process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
        } else {
          const lines = [`${'store'.padEnd(12)} ${'copies'.padStart(6)}  ${'newest'.padEnd(17)} ${'age'.padStart(7)} ${'size'.padStart(10)}  verified`];
          for (const r of rows) {
            if ('error' in r) lines.push(`${r.store.padEnd(12)} unreachable: ${r.error}`);
            else if (!r.newest) lines.push(`${r.store.padEnd(12)} ${'0'.padStart(6)}  (no copies)`);
            else {
              const size = r.newest.copies.reduce((n, c) => n + c.bytes, 0);
              const verified = r.newest.health === 'good' ? 'yes' : `NO: ${r.newest.health}${r.newest.detail ? ` (${r.newest.detail})` : r.newest.copies.find((c) => c.detail)?.detail ? ` (${r.newest.copies.find((c) => c.detail)?.detail})` : ''}`;
              lines.push(`${r.store.padEnd(12)} ${String(r.copies).padStart(6)}  ${r.newest.stamp.padEnd(17)} ${age(r.newest.stamp).padStart(7)} ${mb(size).padStart(10)}  ${verified}${r.offsite ? '  (off-site, encrypted)' : ''}`);
            }
          }
          process.stdout.write(lines.join('\n') + '\n');
        }
        process.exitCode = rows.every((r) => !('error' in r) && r.newest?.health === 'good') ? EXIT.ok : EXIT.unhealthy;
      });
    });

  common(backup.command('verify'))
    .description('Check the newest copy on every store (size, sha256 on the store), then restore the newest good copy of each kind into a scratch server and compare its rows with the manifest')
    .option('--all', 'check every copy on every store, not only the newest')
    .option('--on <machine>', 'machine that runs the scratch server (default: the store holding the copy)')
    .option('--no-restore-test', 'only check checksums')
    .option('--state <path>', 'state file the restore tests are kept in, for the dashboard (default: $LIFEBOAT_STATE or ~/.lifeboat/state.db)')
    .addHelpText('after', '\nExit codes: 0 all good, 1 a copy is damaged or a restore test failed, 2 bad input.')
    .action(async (file: string | undefined, options: Common & { all?: boolean; on?: string; restoreTest?: boolean; state?: string }) => {
      await withSession(file, options, async ({ fleet, ctx }) => {
        const report = await verifyBackups(ctx, backupSettings(fleet), {
          all: options.all ?? false,
          ...(options.restoreTest === false ? { restoreKinds: [] } : {}),
          ...(options.on ? { on: options.on } : {}),
        });
        process.stdout.write(options.json ? JSON.stringify(report, null, 2) + '\n' : renderVerify(report));
        process.exitCode = report.ok ? EXIT.ok : EXIT.unhealthy;
        // Kept for the dashboard's backups; a state file that cannot be written costs a warning, not the check.
        if (report.restoreTests.length > 0) {
          try {
            const history = History.open(stateFileFrom(options.state));
            try {
              for (const t of report.restoreTests) history.recordRestoreTest({ fleet: fleet.name, store: t.store, stamp: t.stamp, kind: t.kind, at: Date.now(), ok: t.ok, ms: t.ms });
            } finally {
              history.close();
            }
          } catch (error) {
            process.stderr.write(`lifeboat: the restore tests were not kept in the state file: ${(error as Error).message}\n`);
          }
        }
      });
    });

  common(backup.command('restore'))
    .description('Restore the newest good copy into MariaDB on a machine (physical: swaps the data folder, old one kept aside; logical: loads into the running server)')
    .requiredOption('--to <machine>', 'machine whose MariaDB receives the data')
    .option('--kind <kind>', 'physical or logical (default: physical when a good one is as new as any)')
    .option('--from <store>', 'only consider copies (and the shipped binary log) on this store')
    .option('--replay', 'then replay the binary log shipped to the stores, to its last transaction')
    .option('--until <gtid|time>', 'then replay the shipped binary log up to this GTID (0-12-345, included) or time ("2026-12-01 13:45:00", the machine\'s clock), from the newest copy taken before it')
    .option('--plan', 'print what would run; change nothing')
    .option('-y, --yes', 'apply (without it, the plan is printed and nothing changes)')
    .action(async (file: string | undefined, options: Common & { to: string; kind?: string; from?: string; replay?: boolean; until?: string; plan?: boolean; yes?: boolean }) => {
      const kind = kindOf(options.kind);
      const until = options.until === undefined ? undefined : /^\d+-\d+-\d+(,\d+-\d+-\d+)*$/.test(options.until) ? { gtid: options.until } : { time: options.until };
      try {
        checkUntil(until);
      } catch (error) {
        throw new UsageError((error as Error).message);
      }
      await withSession(file, options, async ({ fleet, ctx }) => {
        if (!fleet.machines.some((m) => m.name === options.to)) throw new UsageError(`--to: no machine ${JSON.stringify(options.to)} in the fleet file`);
        const settings = backupSettings(fleet);
        const good = await findNewestGoodCopy(ctx, settings, {
          ...(kind ? { kind } : {}), ...(options.from ? { stores: [options.from] } : {}), preferStore: options.to,
          // A copy taken after the point cannot be wound back: the newest one before it.
          ...(until?.gtid ? { accept: (_m, c) => gtidAtOrBefore(c.gtid, until.gtid!) } : {}),
          ...(until?.time ? { accept: (m) => Date.parse(m.createdAt) <= Date.parse(until.time!.replace(' ', 'T')) } : {}),
        });
        const lines = [`newest good copy: ${good.copy.kind} ${good.stamp} on ${good.store}${good.copy.encrypted ? ' (encrypted)' : ''}`];
        for (const s of good.skipped) lines.push(`  skipped ${s.store}:${s.stamp} — ${s.health}${s.detail ? `: ${s.detail}` : ''}`);
        const action = restoreCopy({ copy: good, to: options.to, settings });
        for (const change of await action.plan(ctx)) lines.push(renderChange(change));
        process.stdout.write(lines.join('\n') + '\n');
        const replay = options.replay || until
          ? replayBinlogs(options.to, { stores: shippingStores(fleet).map((m) => m.name).filter((s) => !options.from || s === options.from), from: async () => good.copy.gtid, ...(until ? { until } : {}) })
          : undefined;
        if (replay) for (const change of await replay.plan(ctx)) process.stdout.write(`${renderChange(change)}\n`);
        if (options.plan || !options.yes) {
          if (!options.plan) process.stdout.write('nothing changed: re-run with --yes to restore\n');
          return;
        }
        await action.apply(ctx);
        await action.verify(ctx);
        process.stdout.write(`restored ${good.stamp} into ${options.to}; row counts match the manifest${action.outcome?.aside ? `; previous data kept in ${action.outcome.aside}` : ''}\n`);
        if (replay) {
          await replay.apply(ctx);
          await replay.verify(ctx);
          const o = replay.outcome;
          process.stdout.write(o?.chosen
            ? `replayed ${o.chosen.source}'s binary log from ${o.chosen.store}: GTID ${good.copy.gtid || '-'} → ${o.after || '-'}${o.chosen.files.some((f) => f.sealed) ? ' (sealed, opened on the operator\'s machine)' : ''}${o.chosen.gaps.length ? `; stopped at a gap: ${o.chosen.gaps.join('; ')}` : ''}\n`
            : 'no shipped binary log continues this copy: nothing replayed\n');
        }
      });
    });

  fleetOption(legacyFleetArgument(backup.command('schedule')))
    .description('Print the crontab line that runs `lifeboat backup run` on the fleet file\'s schedule')
    .option('--lifeboat <command>', 'how lifeboat is run on the machine holding the crontab', 'lifeboat')
    .action(async (file: string | undefined, options: { lifeboat: string; fleet?: string }) => {
      const { loadFleet } = await import('../../fleet/load.ts');
      const path = fleetFileOf(options, file);
      const fleet = await loadFleet(path);
      const settings = fleet.backups;
      if (!settings) throw new UsageError(`${path} has no backups section`);
      // cron starts in the home folder: the fleet file must be named absolutely.
      process.stdout.write(crontabLine({ schedule: settings.schedule, fleetFile: resolve(path), lifeboat: options.lifeboat }) + '\n');
    });
}

export function renderVerify(report: VerifyReport): string {
  const lines: string[] = [];
  for (const s of report.stores) {
    if (s.error) {
      lines.push(`BAD ${s.store}: ${s.error}`);
      continue;
    }
    if (s.checked.length === 0) lines.push(`BAD ${s.store}: no copies`);
    for (const c of s.checked) {
      const detail = c.detail ?? c.copies.find((x) => x.detail)?.detail;
      lines.push(`${c.health === 'good' ? 'ok ' : 'BAD'} ${s.store.padEnd(12)} ${c.stamp}  ${c.health}${detail ? `: ${detail}` : ''}${s.offsite ? '  (off-site)' : ''}`);
    }
  }
  for (const t of report.restoreTests) {
    lines.push(`${t.ok ? 'ok ' : 'BAD'} restore test ${t.kind.padEnd(8)} ${t.stamp} from ${t.store} on ${t.on}: ${t.detail} (${(t.ms / 1000).toFixed(1)} s)`);
  }
  lines.push(report.ok ? 'all copies verified' : 'BACKUPS NEED ATTENTION');
  return lines.join('\n') + '\n';
}
