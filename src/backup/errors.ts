/** The one error class of the backup module; callers branch on `code`, never on the text. */
export type BackupErrorCode =
  /** The fleet file lacks the `backups` or `database` section, or names no usable machine. */
  | 'not-configured'
  /** An off-site store needs `backups.encryptionKey`, or a copy is encrypted and no key was given. */
  | 'missing-key'
  /** mariadb-dump / mariadb-backup / counting rows on the database machine failed. */
  | 'take-failed'
  /** A copy could not be written to, or checked on, a store. */
  | 'ship-failed'
  /** No complete copy with a matching checksum exists on any store. */
  | 'no-good-copy'
  /** A restore step failed; the message says which and what state the target is in. */
  | 'restore-failed'
  /** A restored server does not hold what the manifest says. */
  | 'verify-failed'
  /** A manifest on a store cannot be parsed. */
  | 'bad-manifest';

export class BackupError extends Error {
  override name = 'BackupError';
  constructor(
    readonly code: BackupErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
