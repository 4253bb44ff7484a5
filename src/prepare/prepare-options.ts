/** What can be tuned about the prepared state; the defaults are what a real fleet gets. */
export interface PrepareOptions {
  /**
   * The my.cnf drop-in lifeboat owns on every MariaDB machine (semi-sync, read_only).
   * Debian's /etc/mysql/my.cnf includes every file of this folder. A function gives each
   * machine its own path (tests whose "machines" share one disk).
   */
  mariadbDropIn: string | ((machine: string) => string);
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
}

export const DEFAULT_PREPARE_OPTIONS: PrepareOptions = {
  mariadbDropIn: '/etc/mysql/mariadb.conf.d/60-lifeboat-replication.cnf',
  semiSyncTimeoutMs: 5000,
  uploadSyncIntervalS: 2,
  stateDir: '/var/lib/lifeboat',
  settleMs: 15_000,
  keepArchives: 5,
};

export function prepareOptions(overrides: Partial<PrepareOptions> = {}): PrepareOptions {
  return { ...DEFAULT_PREPARE_OPTIONS, ...overrides };
}

/** Polls `probe` until it returns true or `withinMs` passed; bounded. */
export async function settle(probe: () => Promise<boolean>, withinMs: number, stepMs = 200): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    if (await probe()) return true;
    if (Date.now() + stepMs > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
}
