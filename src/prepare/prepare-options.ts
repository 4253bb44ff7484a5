import { DEFAULT_KEEPER, type KeeperOptions } from './sync-keeper.ts';

/** What can be tuned about the prepared state; the defaults are what a real fleet gets. */
export interface PrepareOptions {
  /**
   * The my.cnf drop-in lifeboat owns on every MariaDB machine (semi-sync, read_only).
   * Debian's /etc/mysql/my.cnf includes every file of this folder. A function gives each
   * machine its own path (tests whose "machines" share one disk).
   */
  mariadbDropIn: string | ((machine: string) => string);
  /** The drop-in that points MariaDB at its TLS certificate (fleet `tls`). */
  mariadbTlsDropIn: string | ((machine: string) => string);
  /**
   * How long the primary waits for the replica's acknowledgement before it gives up and
   * commits asynchronously. The trade-off: while the replica is slow or unreachable each
   * commit waits up to this long (once: semi-sync then switches itself off until the
   * replica catches up), and from that switch on an acknowledged commit may exist on one
   * machine only. 5 s outlasts a network blip or a replica's short stall, so semi-sync
   * stays on in normal weather and "zero acknowledged writes lost" holds; it is half of
   * MariaDB's 10 s default, so losing the backup costs users one 5 s pause, not 10 s.
   */
  semiSyncTimeoutMs: number;
  /** Seconds between two rsync passes of upload files (the upper bound of the sync lag). */
  uploadSyncIntervalS: number;
  /** lifeboat's own folder on each machine (sync script, its status, archive staging). */
  stateDir: string;
  /** How long `verify` waits for replication to run, the Redis link to come up, a first sync. */
  settleMs: number;
  /** How many installation archives each store keeps per machine. */
  keepArchives: number;
  /** authorized_keys of the SSH user on a sync target; `~/` is that user's home there. */
  authorizedKeys: (machine: string) => string;
  /** The public host key of a sync target's sshd, read there and pinned on the source. */
  targetHostKey: (machine: string) => string;
  /** Where the target keeps a synced folder: the same path as on the source in a real fleet. */
  uploadTargetPath: (path: string) => string;
  /** Where a store keeps the installation archives of `source` (fleet `backups.installDir`). */
  archiveDir: (store: string, installDir: string, source: string) => string;
  /** Where supervisor/systemd programs that lifeboat keeps running are declared. */
  keeper: KeeperOptions;
}

export const DEFAULT_PREPARE_OPTIONS: PrepareOptions = {
  mariadbDropIn: '/etc/mysql/mariadb.conf.d/60-lifeboat-replication.cnf',
  mariadbTlsDropIn: '/etc/mysql/mariadb.conf.d/61-lifeboat-tls.cnf',
  semiSyncTimeoutMs: 5000,
  uploadSyncIntervalS: 2,
  stateDir: '/var/lib/lifeboat',
  settleMs: 15_000,
  keepArchives: 5,
  authorizedKeys: () => '~/.ssh/authorized_keys',
  targetHostKey: () => '/etc/ssh/ssh_host_ed25519_key.pub',
  uploadTargetPath: (path) => path,
  archiveDir: (_store, installDir, source) => `${installDir}/${source}`,
  keeper: DEFAULT_KEEPER,
};

export function prepareOptions(overrides: Partial<PrepareOptions> = {}): PrepareOptions {
  return { ...DEFAULT_PREPARE_OPTIONS, ...overrides };
}
