/**
 * A throwaway mariadbd on any machine with MariaDB installed: its own folder, socket and pid
 * file, no network, no binary log, none of the machine's config. `backup verify` restores into
 * one and the bench measures with one; the running server of the machine is never touched.
 */
import { posix } from 'node:path';
import type { Remote } from '../remote/remote.ts';
import { pidfileControl, type MariadbLocal } from './mariadb-local.ts';
import { privateWorkDir, runBash, shq } from './remote-shell.ts';

export interface ScratchOptions {
  /** Default 256 MB: a fair pool for a logical load (32 MB thrashes, see LAB-NOTES). */
  bufferPoolMb?: number;
  /** Extra mariadbd options, e.g. `--innodb-flush-method=fsync` on tmpfs. */
  args?: string[];
}

export interface Scratch {
  dir: string;
  local: MariadbLocal;
  /** Creates an empty system schema and starts the server (for logical loads). */
  initialize(): Promise<void>;
  /** Stops the server by its pid file and removes the folder. Safe to call twice. */
  destroy(): Promise<void>;
}

export function scratchLocal(dir: string, options: ScratchOptions = {}): MariadbLocal {
  const datadir = posix.join(dir, 'data');
  const socket = posix.join(dir, 'sock');
  // A unix socket path is limited to 107 bytes; past that mariadbd starts but nobody can connect.
  if (Buffer.byteLength(socket) > 100) throw new Error(`scratch folder ${dir} is too deep for a unix socket path; use a shorter work folder`);
  const pidFile = posix.join(dir, 'mysqld.pid');
  const errorLog = posix.join(dir, 'error.log');
  const args = [
    '--no-defaults', '--user=mysql', `--datadir=${datadir}`, `--socket=${socket}`, `--pid-file=${pidFile}`,
    `--log-error=${errorLog}`, `--tmpdir=${posix.join(dir, 'tmp')}`, '--skip-networking', '--skip-log-bin',
    `--innodb-buffer-pool-size=${options.bufferPoolMb ?? 256}M`, ...(options.args ?? []),
  ].map(shq).join(' ');
  return {
    socket,
    datadir,
    osUser: 'mysql',
    // Background `setsid` in a non-interactive shell execs mariadbd itself, so $! is its pid.
    control: pidfileControl({ pidFile, socket, errorLog, start: `setsid mariadbd ${args} </dev/null >/dev/null 2>&1 &\nlaunched=$!` }),
  };
}

/** `label` is for people reading `ps`/`ls`; the folder name itself stays short (socket path limit). */
export async function createScratch(remote: Remote, parent: string, label: string, options: ScratchOptions = {}): Promise<Scratch> {
  // Made private (mktemp) and then handed to the server's user: it holds a restored copy.
  const dir = await privateWorkDir(remote, parent, 'lifeboat-scratch');
  const local = scratchLocal(dir, options);
  await runBash(remote, `chown mysql:mysql ${shq(dir)} && chmod 0750 ${shq(dir)}\ninstall -d -o mysql -g mysql -m 0750 ${shq(local.datadir)} ${shq(posix.join(dir, 'tmp'))}\necho ${shq(label)} > ${shq(dir)}/label`);
  let destroyed = false;
  return {
    dir,
    local,
    async initialize() {
      await runBash(remote,
        `mariadb-install-db --no-defaults --user=mysql --skip-test-db --auth-root-authentication-method=socket --datadir=${shq(local.datadir)} >${shq(dir)}/install.log 2>&1 || { tail -n 20 ${shq(dir)}/install.log >&2; exit 1; }`,
        { timeoutMs: 5 * 60_000 });
      await runBash(remote, local.control.startCommand(), { timeoutMs: 5 * 60_000 });
    },
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      // Stopping the scratch server is cleanup; the restore test's verdict is already taken.
      await remote.run(local.control.stopCommand(), { timeoutMs: 3 * 60_000 }).catch(() => undefined);
      await remote.run(`rm -rf -- ${shq(dir)}`, { timeoutMs: 5 * 60_000 });
    },
  };
}
