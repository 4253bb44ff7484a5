/**
 * The shell for putting a copy into a server, shared by `restoreCopy` (a fleet machine), the
 * scratch instance of `backup verify`, and the bench — so what the bench times is what a
 * recovery runs.
 */
import type { CopyEntry } from './manifest.ts';
import { clientArgs, type MariadbLocal } from './mariadb-local.ts';
import { shq } from './remote-shell.ts';

export interface PhysicalPaths {
  /** Unpacked beside the data folder so the final move is a rename on the same filesystem. */
  incoming: string;
  /** Where the old data goes (kept for undo). */
  aside: string;
}

export function physicalPaths(local: MariadbLocal, tag: string): PhysicalPaths {
  return { incoming: `${local.datadir}.lifeboat-incoming-${tag}`, aside: `${local.datadir}.lifeboat-before-${tag}` };
}

/**
 * Unpack (and prepare when the copy is not prepared yet): the server keeps running meanwhile.
 * With `sha256`, the file is checksummed in parallel with the unpacking and the step fails
 * before anything of the server's is touched when it differs.
 */
export function unpackPhysical(copy: CopyEntry, file: string, local: MariadbLocal, paths: PhysicalPaths, sha256?: string): string {
  const dir = shq(paths.incoming);
  return [
    `rm -rf -- ${dir}`,
    `install -d -m 0750 ${dir}`,
    sha256 ? `sum=$(mktemp); sha256sum -- ${shq(file)} > "$sum" & hasher=$!` : '',
    `zstd -q -dc -- ${shq(file)} | tar -C ${dir} -xf -`,
    sha256
      ? `wait "$hasher"; got=$(cut -d' ' -f1 "$sum"); rm -f "$sum"
` +
        `if [ "$got" != ${shq(sha256)} ]; then rm -rf -- ${dir}; echo "sha256 of ${file} is $got, expected ${sha256}" >&2; exit 1; fi`
      : '',
    copy.prepared ? '' : `mariadb-backup --prepare --target-dir=${dir} >${dir}.prepare.log 2>&1`,
    `chown -R ${shq(local.osUser)}:${shq(local.osUser)} ${dir}`,
  ].filter(Boolean).join('\n');
}

/**
 * With the server stopped: old data aside, new data in. Entries move one by one, because the
 * data folder itself may be a mount point (the lab binds it), which cannot be renamed.
 */
export function swapInPhysical(local: MariadbLocal, paths: PhysicalPaths): string {
  const data = shq(local.datadir);
  return [
    `install -d -m 0750 ${data}`,
    `rm -rf -- ${shq(paths.aside)}`,
    `install -d -m 0750 ${shq(paths.aside)}`,
    `find ${data} -mindepth 1 -maxdepth 1 -exec mv -t ${shq(paths.aside)} -- {} +`,
    `find ${shq(paths.incoming)} -mindepth 1 -maxdepth 1 -exec mv -t ${data} -- {} +`,
    `rmdir -- ${shq(paths.incoming)}`,
    `chown ${shq(local.osUser)}:${shq(local.osUser)} ${data}`,
  ].join('\n');
}

/** Undo of `swapInPhysical` (server stopped): the restored data is dropped, the old one comes back. */
export function swapBackPhysical(local: MariadbLocal, paths: PhysicalPaths): string {
  const data = shq(local.datadir);
  return [
    `[ -d ${shq(paths.aside)} ]`,
    `find ${data} -mindepth 1 -maxdepth 1 -exec rm -rf -- {} +`,
    `find ${shq(paths.aside)} -mindepth 1 -maxdepth 1 -exec mv -t ${data} -- {} +`,
    `rmdir -- ${shq(paths.aside)}`,
  ].join('\n');
}

/**
 * Loads a logical dump the fast way measured in LAB-NOTES: no binary log for the load
 * (replicas are rebuilt from a fresh copy afterwards) and flush-at-commit 2 for its duration,
 * put back whatever happens.
 */
export function loadLogical(file: string, local: Pick<MariadbLocal, 'socket'>, options: { binlog?: boolean } = {}): string {
  return [
    `db() { mariadb ${clientArgs(local)} "$@"; }`,
    `old=$(db --batch --skip-column-names -e 'SELECT @@GLOBAL.innodb_flush_log_at_trx_commit')`,
    `case "$old" in 0|1|2|3) ;; *) old=1 ;; esac`,
    `trap 'db -e "SET GLOBAL innodb_flush_log_at_trx_commit=$old"' EXIT`,
    `db -e 'SET GLOBAL innodb_flush_log_at_trx_commit=2'`,
    `{ ${options.binlog ? '' : `echo 'SET SESSION sql_log_bin=0;'; `}zstd -q -dc -- ${shq(file)}; } | db`,
  ].join('\n');
}
