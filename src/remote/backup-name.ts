/**
 * Names of the backups kept beside an edited file: `<path>.lifeboat-<UTC stamp>.bak`, sortable
 * and obviously ours, so an operator can find and restore one with a plain `mv`.
 */

/** `20261124T001555Z`: UTC, seconds precision, no characters a shell would mind. */
export function utcStamp(now: Date): string {
  return now.toISOString().replace(/\.\d+Z$/, 'Z').replace(/[-:]/g, '');
}

/**
 * Backup paths to try in order. Two edits of one file in the same second must not overwrite
 * the first backup, so later candidates carry a counter; the list is bounded.
 */
export function backupPathCandidates(path: string, now: Date, count = 20): string[] {
  const stamp = utcStamp(now);
  return Array.from({ length: count }, (_, i) => `${path}.lifeboat-${stamp}${i === 0 ? '' : `-${i + 1}`}.bak`);
}

/** Temp file in the same folder as `path`, so the final rename never crosses file systems. */
export function tempPathFor(path: string): string {
  const slash = path.lastIndexOf('/');
  const dir = path.slice(0, slash + 1);
  const base = path.slice(slash + 1);
  return `${dir}.${base}.lifeboat-tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
}
