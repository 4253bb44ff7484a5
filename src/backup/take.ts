/**
 * Takes both kinds of copy ON the database machine, into a work folder there:
 * - physical: mariadb-backup --backup, then --prepare (so a restore is unpack + start), tar | zstd;
 * - logical: mariadb-dump --single-transaction of the schema, log tables as schema only, | zstd.
 * From a replica the SQL thread is paused for the duration, so the GTID position and the row
 * counts describe both copies exactly; it is restarted whatever happens.
 */
import { posix } from 'node:path';
import type { ActionContext } from '../actions/action.ts';
import { RemoteError, type Remote } from '../remote/remote.ts';
import { BackupError } from './errors.ts';
import { copyFileName } from './layout.ts';
import type { CopyEntry, CopyKind, Manifest } from './manifest.ts';
import { MANIFEST_FORMAT } from './manifest.ts';
import { clientArgs, countRows, gtidPosition, requireCounts, serverVersion, sqlOn, type MariadbLocal } from './mariadb-local.ts';
import type { BackupSettings } from './settings.ts';
import { privateWorkDir, runBash, sha256On, shq, sizeOn } from './remote-shell.ts';
import type { BackupSource } from './source.ts';

export interface TakenCopies {
  /** Folder on the source machine holding the files; the caller removes it. */
  workDir: string;
  /** Manifest for plain stores (off-site stores get theirs when their copies are sealed: ship.ts). */
  manifest: Manifest;
}

export interface TakeOptions {
  kinds: readonly CopyKind[];
  stamp: string;
}

const HOUR_MS = 60 * 60_000;

export async function takeCopies(ctx: ActionContext, settings: BackupSettings, source: BackupSource, options: TakeOptions): Promise<TakenCopies> {
  const remote = ctx.remote(source.machine);
  const local = await settings.mariadb(ctx, source.machine);
  const workDir = await privateWorkDir(remote, settings.workDir(source.machine), `lifeboat-backup-${options.stamp}-${source.machine}`);
  const paused = source.role === 'db-replica';
  const copies: CopyEntry[] = [];
  let version = '';
  try {
    if (paused) await sqlOn(remote, local, 'STOP SLAVE SQL_THREAD');
    try {
      version = await serverVersion(remote, local);
      // Physical first: it is the fast path back, and the cheaper one to take.
      for (const kind of ['physical', 'logical'] as const) {
        if (!options.kinds.includes(kind)) continue;
        const gtid = await gtidPosition(remote, local);
        const tables = requireCounts(await countRows(remote, local, settings.schema), settings.schema, source.machine);
        const file = copyFileName(kind, settings.schema, options.stamp);
        const path = posix.join(workDir, file);
        const started = performance.now();
        ctx.log(`${source.machine}: taking the ${kind} copy`);
        if (kind === 'physical') await takePhysical(remote, local, workDir, path);
        else await takeLogical(remote, local, settings, path);
        const tookMs = Math.round(performance.now() - started);
        const sha256 = await sha256On(remote, path);
        copies.push({
          kind, file, bytes: await sizeOn(remote, path), sha256, plainSha256: sha256, encrypted: false,
          prepared: kind === 'physical', gtid, tables,
          schemaOnly: kind === 'logical' ? settings.logTables.filter((t) => t in tables) : [],
          tookMs,
        });
      }
    } finally {
      if (paused) await sqlOn(remote, local, 'START SLAVE SQL_THREAD');
    }
    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      stamp: options.stamp,
      createdAt: new Date().toISOString(),
      fleet: ctx.fleet.name,
      schema: settings.schema,
      source: { machine: source.machine, role: source.role, consistency: paused ? 'replica-paused' : 'live' },
      serverVersion: version,
      copies,
    };
    return { workDir, manifest };
  } catch (error) {
    // Cleanup of the work folder; the error being handled is rethrown.
    await remote.run(`rm -rf -- ${shq(workDir)}`).catch(() => undefined);
    if (error instanceof BackupError) throw error;
    const detail = error instanceof RemoteError ? error.message : String(error);
    throw new BackupError('take-failed', `${source.machine}: backup failed: ${detail}`, { cause: error });
  }
}

async function takePhysical(remote: Remote, local: MariadbLocal, workDir: string, path: string): Promise<void> {
  const target = posix.join(workDir, 'physical');
  const log = posix.join(workDir, 'mariadb-backup.log');
  await runBash(remote, [
    // Copies hold every row: 0600, like the folder they are made in (0700).
    'umask 077',
    `mariadb-backup --backup ${clientArgs(local)} --target-dir=${shq(target)} >${shq(log)} 2>&1 || { tail -n 20 ${shq(log)} >&2; exit 1; }`,
    `mariadb-backup --prepare --target-dir=${shq(target)} >>${shq(log)} 2>&1 || { tail -n 20 ${shq(log)} >&2; exit 1; }`,
    `tar -C ${shq(target)} -cf - . | zstd -q -T0 -3 > ${shq(path)}`,
    `rm -rf -- ${shq(target)}`,
  ].join('\n'), { timeoutMs: 6 * HOUR_MS });
}

/** The mariadb-dump options lifeboat's logical copies use (the bench measures the same). */
export function dumpCommand(local: Pick<MariadbLocal, 'socket'>, schema: string, logTables: readonly string[]): string {
  const ignore = logTables.map((t) => ` --ignore-table-data=${shq(`${schema}.${t}`)}`).join('');
  return `mariadb-dump ${clientArgs(local)} --single-transaction --quick --routines --triggers --events --hex-blob ` +
    `--skip-dump-date --databases ${shq(schema)}${ignore}`;
}

async function takeLogical(remote: Remote, local: MariadbLocal, settings: BackupSettings, path: string): Promise<void> {
  await runBash(remote, `umask 077\n${dumpCommand(local, settings.schema, settings.logTables)} | zstd -q -T0 -3 > ${shq(path)}`, { timeoutMs: 6 * HOUR_MS });
}

/**
 * Copies encrypted before authenticated sealing existed were made with `openssl enc
 * -aes-256-cbc` on the source: still opened with it, the key read from stdin (`-pass stdin`).
 */
export function decryptCommand(input: string, output: string): string {
  return `openssl enc -d -aes-256-cbc -pbkdf2 -iter 200000 -pass stdin -in ${shq(input)} -out ${shq(output)}`;
}
