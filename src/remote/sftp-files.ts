/**
 * File operations of `SshRemote` over SFTP: binary-safe, no shell quoting, and the OpenSSH
 * extensions (fsync, hardlink, posix-rename) give the same atomic edit as `LocalRemote`.
 */
import { lstat, mkdir, readdir, readlink, rm, symlink, chmod } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import type { SFTPWrapper, Stats } from 'ssh2';
import { backupPathCandidates, tempPathFor } from './backup-name.ts';
import { RemoteError, RemoteFileNotFoundError, type WriteOptions, type WriteResult } from './remote.ts';
import { SFTP_CALL_TIMEOUT_MS, SFTP_TRANSFER_TIMEOUT_MS, within } from './bounds.ts';

/** SFTP status code for "no such file" (draft-ietf-secsh-filexfer, SSH_FX_NO_SUCH_FILE). */
const NO_SUCH_FILE = 2;

/** Promise wrappers over the callback API; `this` is kept by calling through the object. */
export class Sftp {
  constructor(
    readonly sftp: SFTPWrapper,
    readonly machine: string,
  ) {}

  /** One SFTP request, with a deadline (bounds.ts): a half-dead link never holds a step for ever. */
  private call<T>(fn: (cb: (err: Error | null | undefined, value: T) => void) => void, ms = SFTP_CALL_TIMEOUT_MS): Promise<T> {
    return within(
      new Promise<T>((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value)))),
      ms,
      () => new RemoteError('timeout', this.machine, `an SFTP request got no answer within ${Math.round(ms / 1000)} s`),
    );
  }

  lstatOrUndefined(path: string): Promise<Stats | undefined> {
    return this.call<Stats>((cb) => this.sftp.lstat(path, cb)).catch((error) => {
      if (isNoSuchFile(error)) return undefined;
      throw error;
    });
  }

  statOrUndefined(path: string): Promise<Stats | undefined> {
    return this.call<Stats>((cb) => this.sftp.stat(path, cb)).catch((error) => {
      if (isNoSuchFile(error)) return undefined;
      throw error;
    });
  }

  async readFile(path: string): Promise<Buffer> {
    try {
      return await this.call<Buffer>((cb) => this.sftp.readFile(path, cb));
    } catch (cause) {
      if (isNoSuchFile(cause)) throw new RemoteFileNotFoundError(this.machine, path);
      throw new RemoteError('io-failed', this.machine, `could not read ${path}`, { cause });
    }
  }

  async writeFile(path: string, data: Buffer, options: WriteOptions): Promise<WriteResult> {
    let temp: string | undefined;
    try {
      // Edit what a symlink points at; replacing the link itself would detach it.
      const target = (await this.lstatOrUndefined(path)) ? await this.call<string>((cb) => this.sftp.realpath(path, cb)) : path;
      const previous = await this.statOrUndefined(target);
      if (previous?.isFile() && (await this.readFile(target)).equals(data)) return { unchanged: true };

      temp = tempPathFor(target);
      const handle = await this.call<Buffer>((cb) => this.sftp.open(temp as string, 'wx', { mode: 0o600 }, cb));
      try {
        if (data.length > 0) await this.call<void>((cb) => this.sftp.write(handle, data, 0, data.length, 0, cb));
        // Explicit mode: the one given at open() is filtered by the server's umask.
        await this.call<void>((cb) => this.sftp.fchmod(handle, previous ? previous.mode & 0o7777 : (options.mode ?? 0o644), cb));
        if (previous) await this.call<void>((cb) => this.sftp.fchown(handle, previous.uid, previous.gid, cb));
        await this.call<unknown>((cb) => this.sftp.ext_openssh_fsync(handle, (err, info) => cb(err, info)));
      } finally {
        await this.call<void>((cb) => this.sftp.close(handle, cb));
      }
      let backupPath: string | undefined;
      if (previous && options.backup !== false) backupPath = await this.linkBackup(target);
      // posix-rename replaces the target atomically; plain SFTP rename refuses an existing one.
      await this.call<void>((cb) => this.sftp.ext_openssh_rename(temp as string, target, cb));
      temp = undefined;
      return backupPath ? { backupPath, unchanged: false } : { unchanged: false };
    } catch (cause) {
      if (temp) await this.call<void>((cb) => this.sftp.unlink(temp as string, cb)).catch(() => {});
      if (cause instanceof RemoteError) throw cause;
      throw new RemoteError('io-failed', this.machine, `could not write ${path}`, { cause });
    }
  }

  /** Hard-links the current file as its backup: the old inode survives the rename untouched. */
  private async linkBackup(path: string): Promise<string> {
    for (const candidate of backupPathCandidates(path, new Date())) {
      if (await this.lstatOrUndefined(candidate)) continue;
      await this.call<void>((cb) => this.sftp.ext_openssh_hardlink(path, candidate, cb));
      return candidate;
    }
    throw new Error(`too many backups of ${path} in one second`);
  }

  async upload(localPath: string, remotePath: string): Promise<void> {
    const stats = await lstat(localPath).catch((cause) => {
      throw new RemoteError('io-failed', this.machine, `cannot upload ${localPath}: it does not exist locally`, { cause });
    });
    try {
      await this.mkdirp(posix.dirname(remotePath));
      await this.uploadEntry(localPath, remotePath, stats);
    } catch (cause) {
      throw new RemoteError('io-failed', this.machine, `could not upload ${localPath} to ${remotePath}`, { cause });
    }
  }

  private async uploadEntry(local: string, remote: string, stats: Awaited<ReturnType<typeof lstat>>): Promise<void> {
    const mode = Number(stats.mode) & 0o7777;
    if (stats.isDirectory()) {
      const existing = await this.lstatOrUndefined(remote);
      if (!existing) await this.call<void>((cb) => this.sftp.mkdir(remote, { mode }, cb));
      for (const name of await readdir(local)) {
        const child = join(local, name);
        await this.uploadEntry(child, posix.join(remote, name), await lstat(child));
      }
      await this.call<void>((cb) => this.sftp.chmod(remote, mode, cb));
    } else if (stats.isSymbolicLink()) {
      const target = await readlink(local);
      if (await this.lstatOrUndefined(remote)) await this.call<void>((cb) => this.sftp.unlink(remote, cb));
      await this.call<void>((cb) => this.sftp.symlink(target, remote, cb));
    } else if (stats.isFile()) {
      await this.call<void>((cb) => this.sftp.fastPut(local, remote, { mode }, cb), SFTP_TRANSFER_TIMEOUT_MS);
      await this.call<void>((cb) => this.sftp.chmod(remote, mode, cb));
    }
    // Sockets, fifos and devices have no content to copy.
  }

  async download(remotePath: string, localPath: string): Promise<void> {
    const stats = await this.lstatOrUndefined(remotePath).catch((cause) => {
      throw new RemoteError('io-failed', this.machine, `could not read ${remotePath}`, { cause });
    });
    if (!stats) throw new RemoteFileNotFoundError(this.machine, remotePath);
    try {
      await mkdir(dirname(localPath), { recursive: true });
      await this.downloadEntry(remotePath, localPath, stats);
    } catch (cause) {
      throw new RemoteError('io-failed', this.machine, `could not download ${remotePath} to ${localPath}`, { cause });
    }
  }

  private async downloadEntry(remote: string, local: string, stats: Stats): Promise<void> {
    const mode = stats.mode & 0o7777;
    if (stats.isDirectory()) {
      await mkdir(local, { recursive: true });
      const list = await this.call<Array<{ filename: string; attrs: Stats }>>((cb) => this.sftp.readdir(remote, cb));
      for (const entry of list) {
        await this.downloadEntry(posix.join(remote, entry.filename), join(local, entry.filename), entry.attrs);
      }
      await chmod(local, mode);
    } else if (stats.isSymbolicLink()) {
      const target = await this.call<string>((cb) => this.sftp.readlink(remote, cb));
      await rm(local, { force: true });
      await symlink(target, local);
    } else if (stats.isFile()) {
      await this.call<void>((cb) => this.sftp.fastGet(remote, local, cb), SFTP_TRANSFER_TIMEOUT_MS);
      await chmod(local, mode);
    }
  }

  /** `mkdir -p`: creates the missing folders of `path` from the top down. */
  private async mkdirp(path: string): Promise<void> {
    if (path === '/' || path === '.' || path === '') return;
    const existing = await this.statOrUndefined(path);
    if (existing) {
      if (!existing.isDirectory()) throw new Error(`${path} exists and is not a folder`);
      return;
    }
    await this.mkdirp(posix.dirname(path));
    await this.call<void>((cb) => this.sftp.mkdir(path, cb));
  }
}

function isNoSuchFile(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === NO_SUCH_FILE;
}
