/**
 * How lifeboat reaches MariaDB from the database machine itself (the socket, as root, the way
 * the seed's scripts did), and how it stops and starts the server there. A real Debian machine
 * runs MariaDB under systemd; the lab (src/lab/servers/mariadb.ts) runs a plain `setsid -f
 * mariadbd` with a pid file. Both sit behind `MariadbControl`, whose commands are plain shell
 * so that `--plan` can print them.
 */
import mysql from 'mysql2/promise';
import { runChecked, type Remote } from '../remote/remote.ts';
import { BackupError } from './errors.ts';
import { bash, shq } from './remote-shell.ts';

export interface MariadbControl {
  readonly kind: 'systemd' | 'pidfile';
  /** Returns once the server process is gone (bounded wait). */
  stopCommand(): string;
  /** Returns once the server answers on its socket (bounded wait). */
  startCommand(): string;
}

export interface MariadbLocal {
  socket: string;
  datadir: string;
  /** OS account owning the data folder. */
  osUser: string;
  control: MariadbControl;
}

export const DEBIAN_SOCKET = '/run/mysqld/mysqld.sock';
export const DEBIAN_DATADIR = '/var/lib/mysql';
/** How the lab starts mariadbd (src/lab/servers/mariadb.ts); also right for any init-less machine. */
export const PLAIN_START =
  'rm -f /run/mysqld/mysqld.sock; install -d -o mysql -g mysql /run/mysqld; ' +
  'setsid -f /usr/sbin/mariadbd --user=mysql >>/var/log/mysql/mariadbd.log 2>&1 </dev/null';

/** Polls the socket; with `launched` (a pid in `$launched`) gives up at once when that process died. */
function waitAnswering(socket: string, seconds: number, errorLog?: string): string {
  const tries = seconds * 10;
  const died = errorLog
    ? `if [ -n "\${launched:-}" ] && ! kill -0 "$launched" 2>/dev/null; then echo "mariadbd exited during start-up:" >&2; tail -n 15 ${shq(errorLog)} >&2 || true; exit 1; fi; `
    : '';
  return `i=0; until mariadb-admin --socket=${shq(socket)} --user=root --connect-timeout=1 ping >/dev/null 2>&1; do ${died}` +
    `i=$((i+1)); if [ $i -ge ${tries} ]; then echo "mariadb did not answer on ${socket} within ${seconds} s" >&2; exit 1; fi; sleep 0.1; done`;
}

export function systemdControl(socket: string, unit = 'mariadb'): MariadbControl {
  return {
    kind: 'systemd',
    stopCommand: () => `systemctl stop ${shq(unit)}`,
    startCommand: () => bash(`systemctl start ${shq(unit)}\n${waitAnswering(socket, 120)}`),
  };
}

export interface PidfileControlOptions {
  pidFile: string;
  /** Shell that starts mariadbd in the background; it may set `launched=<pid>` to fail fast. */
  start: string;
  socket: string;
  /** Shown when the launched process dies before answering. */
  errorLog?: string;
}

export function pidfileControl(options: PidfileControlOptions): MariadbControl {
  const pid = shq(options.pidFile);
  return {
    kind: 'pidfile',
    stopCommand: () =>
      bash(`p=$(cat ${pid} 2>/dev/null || true)
if [ -z "$p" ] || ! kill -0 "$p" 2>/dev/null; then exit 0; fi
kill -TERM "$p"
i=0; while kill -0 "$p" 2>/dev/null; do i=$((i+1)); if [ $i -ge 1200 ]; then echo "mariadbd $p did not stop within 120 s" >&2; exit 1; fi; sleep 0.1; done`),
    startCommand: () => bash(`${options.start}\n${waitAnswering(options.socket, 120, options.errorLog)}`),
  };
}

/** systemd when the machine booted with it, else the lab's plain start with its pid file. */
export async function detectControl(remote: Remote, socket = DEBIAN_SOCKET): Promise<MariadbControl> {
  const r = await remote.run('[ -d /run/systemd/system ] && command -v systemctl >/dev/null');
  if (r.code === 0) return systemdControl(socket);
  return pidfileControl({ pidFile: '/run/mysqld/mysqld.pid', start: PLAIN_START, socket });
}

export function clientArgs(local: Pick<MariadbLocal, 'socket'>): string {
  return `--socket=${shq(local.socket)} --user=root`;
}

/**
 * Runs SQL through the `mariadb` client on the machine (statement on stdin, never on the
 * command line). Values go in through mysql2's `format`, identifiers through `??`.
 */
export async function sqlOn(remote: Remote, local: Pick<MariadbLocal, 'socket'>, sql: string, params: Array<string | number> = []): Promise<string[][]> {
  const statement = mysql.format(sql, params);
  const r = await runChecked(remote, `mariadb ${clientArgs(local)} --batch --skip-column-names --raw`, {
    stdin: statement + ';\n',
    timeoutMs: 30 * 60_000,
  });
  return r.stdout.split('\n').filter((line) => line !== '').map((line) => line.split('\t'));
}

/** Like `sqlOn` but keeps the header line: rows as objects (for SHOW ... STATUS). */
export async function sqlRowsOn(remote: Remote, local: Pick<MariadbLocal, 'socket'>, sql: string): Promise<Array<Record<string, string>>> {
  const r = await runChecked(remote, `mariadb ${clientArgs(local)} --batch --raw`, { stdin: sql + ';\n', timeoutMs: 60_000 });
  const [header, ...lines] = r.stdout.split('\n').filter((line) => line !== '');
  if (!header) return [];
  const names = header.split('\t');
  return lines.map((line) => Object.fromEntries(line.split('\t').map((v, i) => [names[i] ?? String(i), v])));
}

/** Rows per base table of `schema`, counted exactly. */
export async function countRows(remote: Remote, local: Pick<MariadbLocal, 'socket'>, schema: string): Promise<Record<string, number>> {
  const tables = (await sqlOn(remote, local,
    "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
    [schema])).map((row) => row[0] ?? '');
  if (tables.length === 0) return {};
  const union = tables.map((t) => mysql.format('SELECT ?, COUNT(*) FROM ??.??', [t, schema, t])).join(' UNION ALL ');
  const rows = await sqlOn(remote, local, union);
  const counts: Record<string, number> = {};
  for (const [name, n] of rows) if (name !== undefined) counts[name] = Number(n);
  return counts;
}

export async function serverVersion(remote: Remote, local: Pick<MariadbLocal, 'socket'>): Promise<string> {
  return (await sqlOn(remote, local, 'SELECT VERSION()'))[0]?.[0] ?? '';
}

export async function gtidPosition(remote: Remote, local: Pick<MariadbLocal, 'socket'>): Promise<string> {
  return (await sqlOn(remote, local, 'SELECT @@GLOBAL.gtid_current_pos'))[0]?.[0] ?? '';
}

/** Replica threads running and at most `maxLagS` behind: good enough to back up from. */
export async function replicaHealthy(remote: Remote, local: Pick<MariadbLocal, 'socket'>, maxLagS = 300): Promise<boolean> {
  try {
    const [status] = await sqlRowsOn(remote, local, 'SHOW SLAVE STATUS');
    if (!status) return false;
    const lag = Number(status.Seconds_Behind_Master);
    return status.Slave_IO_Running === 'Yes' && status.Slave_SQL_Running === 'Yes' && Number.isFinite(lag) && lag <= maxLagS;
  } catch {
    return false;
  }
}

export function requireCounts(counts: Record<string, number>, schema: string, machine: string): Record<string, number> {
  if (Object.keys(counts).length === 0) throw new BackupError('take-failed', `${machine}: schema ${schema} has no tables to back up`);
  return counts;
}
