/**
 * Names on disk. Stamps sort by time as strings, so "the newest" is the last folder name;
 * the logical dump keeps the seed's `speed-<stamp>.sql` habit (plus `.zst`) so a person can
 * still find the newest dump in `/shell/sql_backup/` by eye.
 */
import { posix } from 'node:path';
import type { CopyKind } from './manifest.ts';
import { MANIFEST_FILE } from './manifest.ts';

/** `20261124T002516Z`: UTC, second precision, sortable, no characters a shell cares about. */
export function stampOf(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

export const STAMP_PATTERN = /^\d{8}T\d{6}Z$/;

export function dateOfStamp(stamp: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(stamp);
  if (!m) throw new Error(`not a backup stamp: ${stamp}`);
  return new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`);
}

export const ENCRYPTED_SUFFIX = '.enc';

export function copyFileName(kind: CopyKind, schema: string, stamp: string): string {
  return kind === 'logical' ? `${schema}-${stamp}.sql.zst` : `${schema}-${stamp}.physical.tar.zst`;
}

export function stampDir(dumpDir: string, stamp: string): string {
  return posix.join(dumpDir, stamp);
}

export function manifestPath(dumpDir: string, stamp: string): string {
  return posix.join(dumpDir, stamp, MANIFEST_FILE);
}
