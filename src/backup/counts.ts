/** Comparing a restored server's rows with what the manifest recorded. */
import type { CopyEntry, Manifest } from './manifest.ts';

export interface CountComparison {
  /** Differences that mean the restore is wrong. */
  failures: string[];
  /** Differences explained by a copy taken from a primary under writes. */
  drift: string[];
}

export function compareCounts(manifest: Manifest, copy: CopyEntry, actual: Record<string, number>): CountComparison {
  const failures: string[] = [];
  const drift: string[] = [];
  const live = manifest.source.consistency === 'live';
  for (const [table, expected] of Object.entries(copy.tables)) {
    const got = actual[table];
    if (got === undefined) {
      failures.push(`table ${table} is missing`);
      continue;
    }
    // Log tables come back empty by design: their schema is what the dump keeps.
    if (copy.schemaOnly.includes(table)) continue;
    if (got === expected) continue;
    (live ? drift : failures).push(`table ${table} has ${got} rows, manifest says ${expected}`);
  }
  return { failures, drift };
}
