/**
 * A throwaway, real MariaDB server (Debian's mariadbd) for tests: fresh datadir in a temp
 * folder, listening on 127.0.0.1 at a free port and on a socket in that folder. `stop()`
 * ends it by its pid and removes the folder; call it in `after()` so it runs on failure too.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { chown, mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';

const run = promisify(execFile);

export interface MariadbOptions {
  /** Extra mariadbd arguments, e.g. `['--server-id=2', '--log-bin=mysql-bin']`. */
  args?: string[];
  /** Seconds to wait for the server to answer. Default 60. */
  startTimeoutS?: number;
}

export interface MariadbServer {
  port: number;
  /** Unix socket path; root connects through it without a password as well. */
  socket: string;
  /** Password of `root@'%'` over TCP (127.0.0.1). */
  rootPassword: string;
  dir: string;
  pid: number;
  /** Opens a root connection over TCP; the caller ends it. */
  connect(database?: string): Promise<mysql.Connection>;
  stop(): Promise<void>;
}

const MYSQL_UID = async (): Promise<{ uid: number; gid: number }> => {
  const { stdout } = await run('id', ['-u', 'mysql']);
  const { stdout: g } = await run('id', ['-g', 'mysql']);
  return { uid: Number(stdout.trim()), gid: Number(g.trim()) };
};

export async function startMariadb(options: MariadbOptions = {}): Promise<MariadbServer> {
  const dir = await mkdtemp(join(tmpdir(), 'lifeboat-mariadb-'));
  let child: ChildProcess | undefined;
  try {
    const datadir = join(dir, 'data');
    const socket = join(dir, 'mysqld.sock');
    const { uid, gid } = await MYSQL_UID();
    await chown(dir, uid, gid);
    // --no-defaults keeps the machine's /etc/mysql out of the test server.
    await run('mariadb-install-db', [
      '--no-defaults', '--user=mysql', '--skip-test-db', '--auth-root-authentication-method=normal',
      // Same redo log and pool as the server below: a 34 MB datadir instead of 114 MB.
      `--datadir=${datadir}`, '--innodb-log-file-size=16M', '--innodb-buffer-pool-size=32M',
    ], { timeout: 120_000 });
    const port = await freePort();
    const logFile = join(dir, 'error.log');
    child = spawn('mariadbd', [
      '--no-defaults', '--user=mysql', `--datadir=${datadir}`, `--socket=${socket}`,
      `--port=${port}`, '--bind-address=127.0.0.1', `--pid-file=${join(dir, 'mysqld.pid')}`,
      `--log-error=${logFile}`, '--skip-name-resolve', '--innodb-buffer-pool-size=32M',
      '--innodb-log-file-size=16M', '--innodb-flush-log-at-trx-commit=2',
      ...(options.args ?? []),
    ], { stdio: 'ignore' });
    const started = child;
    const exited = new Promise<never>((_, reject) => started.once('exit', (code) => {
      reject(new Error(`mariadbd exited with ${code} during start-up; see ${logFile}`));
    }));
    exited.catch(() => undefined);
    await Promise.race([exited, waitFor(async () => {
      const c = await mysql.createConnection({ socketPath: socket, user: 'root', connectTimeout: 1000 });
      await c.end();
    }, (options.startTimeoutS ?? 60) * 1000)]).catch(async (error: unknown) => {
      const log = await readFile(logFile, 'utf8').catch(() => '');
      throw new Error(`mariadbd did not start: ${(error as Error).message}\n${log.slice(-2000)}`, { cause: error });
    });
    const rootPassword = `t${Math.random().toString(36).slice(2)}`;
    const admin = await mysql.createConnection({ socketPath: socket, user: 'root' });
    try {
      // install-db's passwordless root@127.0.0.1 and root@::1 would win over root@'%'.
      await admin.query("DROP USER IF EXISTS 'root'@'127.0.0.1', 'root'@'::1'");
      await admin.query("CREATE USER IF NOT EXISTS 'root'@'%' IDENTIFIED BY ?", [rootPassword]);
      await admin.query("GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION");
    } finally {
      await admin.end();
    }
    await writeFile(join(dir, 'port'), String(port));
    const pid = started.pid ?? -1;
    return {
      port, socket, rootPassword, dir, pid,
      connect: (database) => mysql.createConnection({
        host: '127.0.0.1', port, user: 'root', password: rootPassword, connectTimeout: 2000,
        ...(database ? { database } : {}),
      }),
      stop: async () => {
        await stopChild(started, 30_000);
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    if (child) await stopChild(child, 30_000);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Retries `probe` every 100 ms until it resolves or `timeoutMs` passes (bounded). */
export async function waitFor(probe: () => Promise<unknown>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      await probe();
      return;
    } catch (error) {
      last = error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`not ready after ${timeoutMs} ms: ${(last as Error | undefined)?.message ?? 'no attempt'}`, { cause: last });
}

/** SIGTERM by pid, SIGKILL after `graceMs`; resolves once the process has exited. */
export async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(child.pid, 'SIGTERM');
  const timer = setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
  }, graceMs);
  await exited;
  clearTimeout(timer);
}
