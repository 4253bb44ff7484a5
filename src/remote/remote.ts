/**
 * How lifeboat reaches a machine. Every action above this layer talks to a `Remote` and
 * never to ssh2 or child_process directly, so the same action runs over SSH on a real
 * fleet, over SSH into a lab host, or locally on the operator's machine.
 */

export interface RunOptions {
  /** Kill the command and reject with a `RemoteTimeoutError` after this many ms. */
  timeoutMs?: number;
  /** Written to the command's standard input, then closed. */
  stdin?: string | Buffer;
  /** Extra environment for this command only (SSH sessions do not inherit the caller's). */
  env?: Record<string, string>;
}

export interface RunResult {
  /** Exit code; `null` when the command died from a signal. */
  code: number | null;
  signal?: string | null;
  stdout: string;
  stderr: string;
  /** Wall time of the command in milliseconds, connection set-up excluded. */
  ms: number;
}

export interface WriteOptions {
  /** File mode for a newly created file, e.g. 0o640. Existing files keep their mode. */
  mode?: number;
  /**
   * Keep the previous version beside the file (`<path>.lifeboat-<stamp>.bak`) before the
   * atomic rename. Default true: no step edits a file without a way back.
   */
  backup?: boolean;
}

export interface WriteResult {
  /** Path of the backup of the previous version, when there was one. */
  backupPath?: string;
  /** True when the content was already identical and nothing was written. */
  unchanged: boolean;
}

export interface Remote {
  /** The machine name from the fleet file, used in errors and journals. */
  readonly machine: string;
  /**
   * Runs a shell command (`sh -c` semantics on the far side). Resolves with the exit code
   * whatever it is; rejects only when the command could not be run or timed out.
   */
  run(command: string, options?: RunOptions): Promise<RunResult>;
  /** Reads a whole file; rejects with `RemoteFileNotFoundError` when it does not exist. */
  readFile(path: string): Promise<Buffer>;
  /** Writes a file atomically: temp file in the same folder, fsync, rename. */
  writeFile(path: string, content: string | Buffer, options?: WriteOptions): Promise<WriteResult>;
  /** Copies a local file or folder to the machine (recursively for folders). */
  upload(localPath: string, remotePath: string): Promise<void>;
  /** Copies a file or folder from the machine to a local path (recursively for folders). */
  download(remotePath: string, localPath: string): Promise<void>;
  /** Releases the connection; later calls reconnect. */
  close(): Promise<void>;
}

/** Runs `command` and rejects with `RemoteCommandError` unless it exits 0. */
export async function runChecked(remote: Remote, command: string, options?: RunOptions): Promise<RunResult> {
  const result = await remote.run(command, options);
  if (result.code !== 0) throw new RemoteCommandError(remote.machine, command, result);
  return result;
}

/** Quotes one argument for a POSIX shell. */
export function shq(value: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export type RemoteErrorCode =
  | 'connect-failed'
  | 'host-key-unknown'
  | 'host-key-changed'
  | 'auth-failed'
  | 'timeout'
  | 'command-failed'
  | 'file-not-found'
  | 'io-failed'
  /** The fleet file has no machine of that name. */
  | 'unknown-machine';

export class RemoteError extends Error {
  constructor(
    readonly code: RemoteErrorCode,
    readonly machine: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${machine}: ${message}`, options);
    this.name = 'RemoteError';
  }
}

export class RemoteTimeoutError extends RemoteError {
  constructor(machine: string, what: string, ms: number) {
    super('timeout', machine, `${what} did not finish within ${ms} ms`);
    this.name = 'RemoteTimeoutError';
  }
}

export class RemoteFileNotFoundError extends RemoteError {
  constructor(machine: string, readonly path: string) {
    super('file-not-found', machine, `${path} does not exist`);
    this.name = 'RemoteFileNotFoundError';
  }
}

export class RemoteCommandError extends RemoteError {
  constructor(machine: string, readonly command: string, readonly result: RunResult) {
    const tail = (result.stderr || result.stdout).trim().split('\n').slice(-3).join(' | ');
    super('command-failed', machine, `\`${command}\` exited ${result.code ?? result.signal}${tail ? `: ${tail}` : ''}`);
    this.name = 'RemoteCommandError';
  }
}
