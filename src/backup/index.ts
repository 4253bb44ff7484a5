/** The backup module's public surface: what the CLI and the recovery scenarios call. */
export { BackupError, type BackupErrorCode } from './errors.ts';
export { backupSettings, type BackupSettings, type SettingsOverrides } from './settings.ts';
export { runBackup, type BackupRunOptions, type BackupRunResult } from './run.ts';
export { findNewestGoodCopy, inspectStamp, listStamps, type GoodCopy, type FindOptions, type StampStatus, type CopyHealth } from './catalog.ts';
export { restoreCopy, type RestoreCopyOptions, type RestoreOutcome } from './restore.ts';
export { verifyBackups, checkStores, restoreTest, type VerifyReport, type StoreCheck, type RestoreTest } from './verify.ts';
export { applyRetention, planRetention } from './retention.ts';
export { crontabLine, isDue, parseSchedule } from './schedule.ts';
export { detectControl, pidfileControl, systemdControl, type MariadbControl, type MariadbLocal } from './mariadb-local.ts';
export type { Manifest, CopyEntry, CopyKind } from './manifest.ts';
