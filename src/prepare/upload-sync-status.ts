/**
 * For `lifeboat status`: how far behind the backup's copy of the upload files is, read
 * from the sync loop's own record on the source machine (time of its last complete pass,
 * last error). Reads only.
 */
import type { Fleet, Machine } from '../fleet/schema.ts';
import type { Remote } from '../remote/remote.ts';
import { DEFAULT_PREPARE_OPTIONS, type PrepareOptions } from './prepare-options.ts';
import { topology } from './topology.ts';
import { readSyncRecord, syncPaths } from './upload-sync.ts';

export interface UploadSyncCheck {
  service: string;
  target: string;
  ok: boolean;
  /** Seconds since the last complete pass; absent when there was none. */
  lagS?: number;
  detail: string;
}

/** One entry per upload sync whose source is `m` (none for other machines). */
export async function uploadSyncChecks(fleet: Fleet, m: Machine, remote: Remote, options: PrepareOptions = DEFAULT_PREPARE_OPTIONS): Promise<UploadSyncCheck[]> {
  let syncs;
  try {
    syncs = topology(fleet).uploads.filter((s) => s.source.name === m.name);
  } catch {
    return []; // an ambiguous fleet is reported by the checks that need it
  }
  const out: UploadSyncCheck[] = [];
  for (const sync of syncs) {
    const p = syncPaths(sync, options);
    const base = { service: sync.service, target: sync.target.name };
    try {
      const { lagS, lastError } = await readSyncRecord(remote, p);
      if (lagS === undefined) {
        out.push({ ...base, ok: false, detail: `to ${sync.target.name}: no complete pass yet${lastError ? ` (${lastError})` : ' — run `lifeboat prepare`'}` });
        continue;
      }
      const ok = lagS <= Math.max(3 * options.uploadSyncIntervalS, 10);
      out.push({ ...base, ok, lagS, detail: `to ${sync.target.name}: last complete pass ${lagS} s ago${lastError ? `; last error: ${lastError.slice(0, 200)}` : ''}` });
    } catch (error) {
      out.push({ ...base, ok: false, detail: `to ${sync.target.name}: cannot read the sync's record: ${(error as Error).message}` });
    }
  }
  return out;
}
