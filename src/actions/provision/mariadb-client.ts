/**
 * Talking to MariaDB from the machine it runs on, through the `mariadb` client: as root over
 * the unix socket (SQL on stdin), and as a fleet account over TCP with the password in an
 * option file read from stdin — never on a command line, where `ps` would show it.
 */
import { shq, type Remote } from '../../remote/remote.ts';
import { ActionError } from '../action.ts';
import { optionFileValue } from './mariadb-config.ts';

function rootClient(socket: string): string {
  // --no-defaults: the machine's option files must not redirect lifeboat's root session.
  return `mariadb --no-defaults --socket=${shq(socket)} --user=root --batch --skip-column-names --raw`;
}

/** Runs a script as root over the socket; the script never appears in errors (it may hold passwords). */
export async function runAsRoot(remote: Remote, socket: string, script: string, timeoutMs = 60_000): Promise<string> {
  const r = await remote.run(rootClient(socket), { stdin: script, timeoutMs });
  if (r.code !== 0) {
    const why = r.stderr.trim().split('\n').slice(-2).join(' | ');
    throw new ActionError('apply-failed', `${remote.machine}: the mariadb client on ${socket} failed: ${why}`);
  }
  return r.stdout;
}

/** One row of plain SELECTs (no secrets) as root over the socket, tab-separated values. */
export async function selectRow(remote: Remote, socket: string, sql: string): Promise<string[]> {
  const out = await runAsRoot(remote, socket, `${sql};\n`, 15_000);
  return (out.split('\n')[0] ?? '').split('\t');
}

/** Shell: waits (bounded) until the server answers on its socket. */
export function waitAnsweringCommand(socket: string, timeoutMs: number): string {
  const tries = Math.max(1, Math.ceil(timeoutMs / 100));
  return `i=0; until mariadb-admin --no-defaults --socket=${shq(socket)} --user=root --connect-timeout=1 ping >/dev/null 2>&1; do ` +
    `i=$((i+1)); if [ $i -ge ${tries} ]; then echo "MariaDB did not answer on ${socket} within ${timeoutMs} ms" >&2; exit 1; fi; sleep 0.1; done`;
}

export interface Login {
  user: string;
  password: string;
  host: string;
  port: number;
  database?: string;
}

/**
 * Logs in over TCP as `login.user` and returns CURRENT_USER(), or the client's error. This
 * proves the account, its password, its grants on `database`, and that the server listens there.
 */
export async function tryLogin(remote: Remote, login: Login): Promise<{ ok: true; currentUser: string } | { ok: false; error: string }> {
  const options = [
    '[client]',
    `user = ${optionFileValue(login.user)}`,
    `password = ${optionFileValue(login.password)}`,
    `host = ${optionFileValue(login.host)}`,
    `port = ${login.port}`,
    'connect-timeout = 3',
    '',
  ].join('\n');
  const database = login.database ? ` ${shq(login.database)}` : '';
  // `cat |` makes stdin a pipe: /dev/stdin cannot be opened when it is a socket (as Node's spawn gives).
  const r = await remote.run(`cat | mariadb --defaults-file=/dev/stdin --batch --skip-column-names -e 'SELECT CURRENT_USER()'${database}`, { stdin: options, timeoutMs: 15_000 });
  if (r.code === 0) return { ok: true, currentUser: r.stdout.trim() };
  return { ok: false, error: r.stderr.trim().split('\n').pop() ?? `exit ${r.code}` };
}
