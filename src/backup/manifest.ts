/**
 * What a backup says about itself: written last into `<dumpDir>/<stamp>/manifest.json` on
 * every store, so a folder without it is an incomplete copy. Each kind of copy carries its
 * own GTID position and row counts because the two are taken one after the other.
 */
import { z } from 'zod';
import { BackupError } from './errors.ts';

export const MANIFEST_FORMAT = 'lifeboat-backup/1';
export const MANIFEST_FILE = 'manifest.json';
/** Beside an off-site manifest: its HMAC under the backup key, written before it (util/seal.ts). */
export const MANIFEST_MAC_FILE = 'manifest.json.mac';
/** How an encrypted copy was sealed: streamed AES-GCM by the operator; or, before, `openssl enc -aes-256-cbc` on the source (no cipher field). */
export const SEAL_CIPHER = 'lifeboat-seal-1' as const;

export const COPY_KINDS = ['physical', 'logical'] as const;
export type CopyKind = (typeof COPY_KINDS)[number];

const sha256 = z.string().regex(/^[0-9a-f]{64}$/);

export const copyEntrySchema = z.strictObject({
  kind: z.enum(COPY_KINDS),
  /** File name inside the stamp folder. */
  file: z.string().regex(/^[A-Za-z0-9._-]+$/),
  bytes: z.number().int().nonnegative(),
  sha256,
  /** Checksum of the compressed copy before encryption (equal to `sha256` when not encrypted). */
  plainSha256: sha256,
  encrypted: z.boolean(),
  /** Set on copies sealed with authentication (`SEAL_CIPHER`); absent on older, unauthenticated ones. */
  cipher: z.literal('lifeboat-seal-1').optional(),
  /** Physical copies are shipped already `--prepare`d: restore is unpack + start. */
  prepared: z.boolean(),
  /** GTID position the copy corresponds to ('' when the server has no GTID history). */
  gtid: z.string(),
  /** Rows per table of the schema when the copy was taken (log tables: rows in the source). */
  tables: z.record(z.string(), z.number().int().nonnegative()),
  /** Tables whose data the copy leaves out on purpose (logical dumps keep their schema only). */
  schemaOnly: z.array(z.string()).default([]),
  tookMs: z.number().int().nonnegative(),
});
export type CopyEntry = z.infer<typeof copyEntrySchema>;

export const manifestSchema = z.strictObject({
  format: z.literal(MANIFEST_FORMAT),
  stamp: z.string(),
  createdAt: z.string(),
  fleet: z.string(),
  schema: z.string(),
  source: z.strictObject({
    machine: z.string(),
    role: z.enum(['db-replica', 'db-primary']),
    /**
     * `replica-paused`: the replica's SQL thread was stopped while both copies and the counts
     * were taken, so counts are exact. `live`: taken from a primary under writes; counts were
     * read beside the copy and can differ by the writes in between.
     */
    consistency: z.enum(['replica-paused', 'live']),
  }),
  serverVersion: z.string(),
  copies: z.array(copyEntrySchema).min(1),
});
export type Manifest = z.infer<typeof manifestSchema>;

export function parseManifest(text: string, where: string): Manifest {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (cause) {
    throw new BackupError('bad-manifest', `${where}: manifest is not JSON`, { cause });
  }
  const parsed = manifestSchema.safeParse(data);
  if (!parsed.success) {
    throw new BackupError('bad-manifest', `${where}: manifest does not match ${MANIFEST_FORMAT}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

export function renderManifest(manifest: Manifest): string {
  return JSON.stringify(manifest, null, 2) + '\n';
}

export function copyOf(manifest: Manifest, kind: CopyKind): CopyEntry | undefined {
  return manifest.copies.find((c) => c.kind === kind);
}
