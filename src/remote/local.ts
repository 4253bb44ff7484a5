/**
 * The operator's own machine behind the same `Remote` contract as an SSH host, so actions,
 * tests and `prepare` steps that touch the local disk need no special case.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { cp, link, lstat, open, readFile, realpath, rename, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { backupPathCandidates, tempPathFor } from './backup-name.ts';
import { brief } from './brief.ts';
import { BoundedOutput, MAX_STDERR_BYTES, MAX_STDOUT_BYTES, outputTooLarge, runTimeoutMs } from './bounds.ts';
import {
  RemoteError,
  RemoteFileNotFoundError,
  RemoteTimeoutError,
  type Remote,
  type RunOptions,
  type RunResult,
  type WriteOptions,
  type WriteResult,
} from './remote.ts';

export class LocalRemote implements Remote {
  constructor(readonly machine: string = 'local') {}

  run(command: string, options: RunOptions = {}): Promise<RunResult> {
    const started = performance.now();
    return new Promise((resolve, reject) => {
      // Own process group, so a timeout kills the whole tree and not only `sh`.
      const child = spawn('sh', ['-c', command], {
        env: { ...process.env, ...options.env },
        detached: true,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      const stdout = new BoundedOutput(MAX_STDOUT_BYTES, 'head');
      const stderr = new BoundedOutput(MAX_STDERR_BYTES, 'tail');
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      // A command that never reads its input closes the pipe early; that is not our failure.
      child.stdin.on('error', () => {});
      child.stdin.end(options.stdin ?? '');
      child.on('error', (cause) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(new RemoteError('io-failed', this.machine, `could not start \`${brief(command)}\``, { cause }));
      });
      child.on('close', (code, signal) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (stdout.dropped > 0) {
          reject(outputTooLarge(this.machine, command));
          return;
        }
        resolve({
          code,
          signal,
          stdout: stdout.toString(),
          stderr: stderr.toString(),
          ms: Math.round(performance.now() - started),
        });
      });
      {
        const ms = runTimeoutMs(options);
        timer = setTimeout(() => {
          if (settled) return;
          settled = true;
          killGroup(child.pid);
          reject(new RemoteTimeoutError(this.machine, `\`${brief(command)}\``, ms));
        }, ms);
      }
    });
  }

  async readFile(path: string): Promise<Buffer> {
    try {
      return await readFile(path);
    } catch (cause) {
      throw this.fsError(cause, path, 'read');
    }
  }

  async writeFile(path: string, content: string | Buffer, options: WriteOptions = {}): Promise<WriteResult> {
    const data = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    // Edit the file a symlink points at, not the link: replacing the link would detach it.
    const target = await realpathIfExists(path);
    const previous = await stat(target).catch(ignoreMissing);
    if (previous?.isFile()) {
      const old = await readFile(target);
      if (old.equals(data)) return { unchanged: true };
    }
    const temp = tempPathFor(target);
    try {
      const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      try {
        await handle.writeFile(data);
        // Explicit chmod: a mode given at open() is filtered by the umask.
        await handle.chmod(previous ? previous.mode & 0o7777 : (options.mode ?? 0o644));
        if (previous) await handle.chown(previous.uid, previous.gid);
        await handle.sync();
      } finally {
        await handle.close();
      }
      let backupPath: string | undefined;
      if (previous && options.backup !== false) backupPath = await linkBackup(target);
      await rename(temp, target);
      await syncDir(dirname(target));
      return backupPath ? { backupPath, unchanged: false } : { unchanged: false };
    } catch (cause) {
      await unlink(temp).catch(() => {});
      throw new RemoteError('io-failed', this.machine, `could not write ${path}`, { cause });
    }
  }

  async upload(localPath: string, remotePath: string): Promise<void> {
    await this.copy(localPath, remotePath, 'upload');
  }

  async download(remotePath: string, localPath: string): Promise<void> {
    await this.copy(remotePath, localPath, 'download');
  }

  async close(): Promise<void> {}

  private async copy(from: string, to: string, what: 'upload' | 'download'): Promise<void> {
    try {
      await lstat(from);
    } catch (cause) {
      if (what === 'download') throw this.fsError(cause, from, 'read');
      throw new RemoteError('io-failed', this.machine, `cannot upload ${from}: it does not exist locally`, { cause });
    }
    try {
      await cp(from, to, { recursive: true, force: true, verbatimSymlinks: true, preserveTimestamps: true });
    } catch (cause) {
      throw new RemoteError('io-failed', this.machine, `could not ${what} ${from} to ${to}`, { cause });
    }
  }

  private fsError(cause: unknown, path: string, verb: string): RemoteError {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return new RemoteFileNotFoundError(this.machine, path);
    return new RemoteError('io-failed', this.machine, `could not ${verb} ${path}`, { cause });
  }
}

/** Hard-links the current file as its backup: the old inode survives the rename untouched. */
async function linkBackup(path: string): Promise<string> {
  for (const candidate of backupPathCandidates(path, new Date())) {
    try {
      await link(path, candidate);
      return candidate;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  throw new Error(`too many backups of ${path} in one second`);
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function realpathIfExists(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch (error) {
    ignoreMissing(error);
    return path;
  }
}

function ignoreMissing(error: unknown): undefined {
  if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
  throw error;
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone: nothing left to stop.
  }
}
