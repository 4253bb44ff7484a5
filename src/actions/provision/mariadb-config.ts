/**
 * The MariaDB configuration a provisioned machine gets: a drop-in lifeboat owns with what
 * replication needs (server-id, binlog, GTID strict mode, read-only on a replica), and a
 * minimal `my.cnf` only when the machine has none at all (a bare spare), so the drop-in is
 * read. Pure functions, unit-tested.
 */
import { ActionError } from '../action.ts';

export type DbRole = 'primary' | 'replica';

export interface MariadbPaths {
  /** The config root: `my.cnf` and the `conf.d/`, `mariadb.conf.d/` folders it includes. */
  etcDir: string;
  datadir: string;
  socket: string;
  pidFile: string;
}

/** Debian's layout. */
export const DEBIAN_MARIADB_PATHS: MariadbPaths = {
  etcDir: '/etc/mysql',
  datadir: '/var/lib/mysql',
  socket: '/run/mysqld/mysqld.sock',
  pidFile: '/run/mysqld/mysqld.pid',
};

/**
 * The drop-in's name. MariaDB reads an `!includedir` in name order and the last value wins:
 * after Debian's `50-server.cnf` (which binds to 127.0.0.1), and before `prepare`'s
 * `60-lifeboat-replication.cnf`, so a promotion that turns read_only off there is not undone
 * by this file at the next restart.
 */
export const DROP_IN_NAME = '60-lifeboat-base.cnf';

export function dropInPath(paths: MariadbPaths): string {
  return `${paths.etcDir}/mariadb.conf.d/${DROP_IN_NAME}`;
}

export function baseConfigPath(paths: MariadbPaths): string {
  return `${paths.etcDir}/my.cnf`;
}

export interface DropInSpec {
  machine: string;
  role: DbRole;
  serverId: number;
  bindAddress: string;
  port: number;
  paths: MariadbPaths;
  /** Extra `[mariadbd]` settings for this machine, e.g. a smaller buffer pool. */
  settings?: Record<string, string | number>;
}

const SETTING_NAME = /^[a-z][a-z0-9_-]*$/;

function settingLine(name: string, value: string | number): string {
  if (!SETTING_NAME.test(name)) throw new ActionError('precondition', `MariaDB setting ${JSON.stringify(name)} is not a setting name`);
  if (/[\r\n]/.test(String(value))) throw new ActionError('precondition', `MariaDB setting ${name} spans several lines`);
  return `${name} = ${value}`;
}

/** The settings the drop-in holds, in file order (also what verify compares live). */
export function dropInSettings(spec: DropInSpec): Array<[string, string | number]> {
  if (!Number.isInteger(spec.serverId) || spec.serverId < 1 || spec.serverId > 4294967295) {
    throw new ActionError('precondition', `server-id ${spec.serverId}: expected a whole number from 1 to 4294967295`);
  }
  return [
    ['bind-address', spec.bindAddress],
    ['port', spec.port],
    ['datadir', spec.paths.datadir],
    ['socket', spec.paths.socket],
    ['pid-file', spec.paths.pidFile],
    ['server-id', spec.serverId],
    ['log-bin', 'mysql-bin'],
    ['log-slave-updates', 'ON'],
    ['binlog-format', 'ROW'],
    ['gtid-strict-mode', 'ON'],
    ['relay-log', 'relay-bin'],
    // Accounts are '%' and DNS may be the thing that is broken during a recovery.
    ['skip-name-resolve', 'ON'],
    ['read-only', spec.role === 'replica' ? 'ON' : 'OFF'],
    ...Object.entries(spec.settings ?? {}),
  ];
}

export function renderDropIn(spec: DropInSpec): string {
  return [
    `# Written by lifeboat when it provisioned ${spec.machine} as the MariaDB ${spec.role}.`,
    '# Re-provisioning rewrites this file: change the fleet file or the step, not this file.',
    '[mariadbd]',
    ...dropInSettings(spec).map(([name, value]) => settingLine(name, value)),
    '',
    // The seed's scripts and lifeboat's own checks run `mariadb` on the machine.
    '[client]',
    `socket = ${spec.paths.socket}`,
    '',
  ].join('\n');
}

/** Written only where no my.cnf exists: Debian's own includes, nothing else. */
export function renderBaseConfig(paths: MariadbPaths): string {
  return [
    '# Written by lifeboat: this machine had no my.cnf. It only includes the drop-in folders,',
    "# as Debian's does; a package upgrade may replace it.",
    '[client-server]',
    `socket = ${paths.socket}`,
    '',
    `!includedir ${paths.etcDir}/conf.d/`,
    `!includedir ${paths.etcDir}/mariadb.conf.d/`,
    '',
  ].join('\n');
}

/** A value for a MariaDB option file, quoted: `"` and `\` escaped; newlines cannot be written. */
export function optionFileValue(value: string): string {
  if (/[\r\n]/.test(value)) throw new ActionError('precondition', 'a MariaDB password cannot hold a line break');
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}
