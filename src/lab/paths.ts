/**
 * Where a lab keeps its state on the machine. Every host's own "disk" is a folder under
 * `hosts/<name>` (a size-limited tmpfs, so a full disk can be simulated per host); the
 * `shared` folder (derived fleet file, secrets, keys) is visible read-only inside every
 * host at the same absolute path and at `/lab`.
 */
import { join } from 'node:path';

export const LABS_ROOT = '/var/lib/lifeboat/labs';
/** Where the lifeboat repository appears inside every host. */
export const REPO_IN_HOST = '/lifeboat';
/** Where the lab's shared folder also appears inside every host. */
export const SHARED_IN_HOST = '/lab';
/** The operator's copy of the derived fleet file, inside the ops host (its own /root). */
export const OPERATOR_FLEET_FILE = '/root/fleet.yaml';

export interface LabPaths {
  root: string;
  stateFile: string;
  lockFile: string;
  shared: string;
  /** Read-write, the same path on the machine and in every host: for tests to pass files. */
  exchange: string;
  secrets: string;
  ssh: string;
  fleetFile: string;
  hostsDir: string;
  anchorScript: string;
  host(name: string): string;
}

export function labPaths(id: string, root = LABS_ROOT): LabPaths {
  const base = join(root, id);
  const shared = join(base, 'shared');
  return {
    root: base,
    stateFile: join(base, 'state.json'),
    lockFile: join(base, 'lock'),
    shared,
    exchange: join(base, 'exchange'),
    secrets: join(shared, 'secrets'),
    ssh: join(shared, 'ssh'),
    fleetFile: join(shared, 'fleet.yaml'),
    hostsDir: join(base, 'hosts'),
    anchorScript: join(base, 'anchor-init.sh'),
    host: (name) => join(base, 'hosts', name),
  };
}

/**
 * Per-host folders of the servers the lab runs, bound over the real paths inside the host, so
 * `/var/lib/mysql` on primary and
 * on backup are different files. Paths under /etc and /var must already exist on the
 * machine (the shared read-only /etc has nowhere to create a mount point).
 */
export const HOST_FOLDERS: ReadonlyArray<{ folder: string; path: string }> = [
  { folder: 'root', path: '/root' },
  { folder: 'tmp', path: '/tmp' },
  { folder: 'run', path: '/run' },
  { folder: 'etc-nginx', path: '/etc/nginx' },
  { folder: 'etc-mysql', path: '/etc/mysql' },
  { folder: 'etc-redis', path: '/etc/redis' },
  { folder: 'etc-ssh', path: '/etc/ssh' },
  { folder: 'etc-supervisor', path: '/etc/supervisor' },
  { folder: 'etc-bind', path: '/etc/bind' },
  // lifeboat installs crontabs here (seed §4.3 step 10); e2fsprogs, which Debian always has, creates it.
  { folder: 'etc-cron.d', path: '/etc/cron.d' },
  { folder: 'var-lib-mysql', path: '/var/lib/mysql' },
  { folder: 'var-lib-redis', path: '/var/lib/redis' },
  { folder: 'var-cache-bind', path: '/var/cache/bind' },
  { folder: 'var-log', path: '/var/log' },
  // A real machine's /var/tmp is on its own disk (backups stage there): per host too.
  { folder: 'var-tmp', path: '/var/tmp' },
  { folder: 'var-lib-lifeboat', path: '/var/lib/lifeboat' },
];

/** Single files bound over the machine's own (from `hosts/<name>/files/`). */
export const HOST_FILES: ReadonlyArray<{ file: string; path: string }> = [
  { file: 'hosts', path: '/etc/hosts' },
  { file: 'resolv.conf', path: '/etc/resolv.conf' },
  { file: 'hostname', path: '/etc/hostname' },
];
