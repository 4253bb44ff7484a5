/**
 * How one command travels over an SSH connection: the command line sent to sshd, opening the
 * exec channel, and collecting output, exit status and timeout into a `RunResult`.
 */
import type { Client, ClientChannel } from 'ssh2';
import { brief } from './brief.ts';
import { RemoteError, RemoteTimeoutError, shq, type RunOptions, type RunResult } from './remote.ts';
import { BoundedOutput, MAX_STDERR_BYTES, MAX_STDOUT_BYTES, outputTooLarge, runTimeoutMs } from './bounds.ts';

/** ssh2 refused to even send the request: the socket is gone. */
export class NotConnected extends Error {}

/** ssh2's "(SSH) Channel open failure" carries the server's numeric reason code. */
export function isChannelRefused(error: unknown): boolean {
  return typeof error === 'object' && error !== null && typeof (error as { reason?: unknown }).reason === 'number';
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Wrapped in an object so the collector's promise is not flattened into the open's. */
export function execChannel<T>(client: Client, command: string, collect: (channel: ClientChannel) => T): Promise<{ result: T }> {
  return new Promise((resolve, reject) => {
    try {
      client.exec(command, (err, channel) => (err ? reject(err) : resolve({ result: collect(channel) })));
    } catch (cause) {
      reject(new NotConnected('not connected', { cause }));
    }
  });
}

/**
 * Gathers a started command's output and exit status. Must be called in the exec callback
 * itself: ssh2 may deliver output and exit status in the same tick as the channel.
 */
export function collectRun(
  channel: ClientChannel,
  what: { machine: string; address: string; command: string; options: RunOptions },
): Promise<RunResult> {
  const { machine, address, command, options } = what;
  return new Promise<RunResult>((resolve, reject) => {
    const started = performance.now();
    const stdout = new BoundedOutput(MAX_STDOUT_BYTES, 'head');
    const stderr = new BoundedOutput(MAX_STDERR_BYTES, 'tail');
    let exit: { code: number | null; signal: string | null } | undefined;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    channel.on('data', (chunk: Buffer) => stdout.push(chunk));
    channel.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    channel.on('exit', (code: number | null, signal?: string) => {
      exit = { code: code ?? null, signal: signal ?? null };
    });
    channel.on('close', () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (!exit) {
        reject(new RemoteError('connect-failed', machine, `connection to ${address} lost while running \`${brief(command)}\``));
        return;
      }
      if (stdout.dropped > 0) {
        reject(outputTooLarge(machine, command));
        return;
      }
      resolve({
        ...exit,
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
        // The far side's `timeout` kills the command's process group; we stop waiting.
        channel.close();
        reject(new RemoteTimeoutError(machine, `\`${brief(command)}\``, ms));
      }, ms);
    }
    channel.end(options.stdin ?? '');
  });
}

/**
 * The command line sent to sshd. sshd hands it to the user's login shell, so we `exec` a
 * POSIX `sh -c` for the same semantics everywhere; `env` carries the extra environment
 * (sshd drops most client-sent variables); coreutils `timeout`, as the session's process
 * group leader, kills the whole command tree when the time is up.
 *
 * `env` values are on a command line for the instant before `env` execs, where `ps` on the
 * far side could see them: pass secrets on stdin, not in `env`.
 */
export function wrapCommand(command: string, options: RunOptions): string {
  const parts = ['exec'];
  const env = Object.entries(options.env ?? {});
  if (env.length > 0) {
    parts.push('env');
    for (const [name, value] of env) {
      if (!ENV_NAME.test(name)) throw new TypeError(`not an environment variable name: ${JSON.stringify(name)}`);
      parts.push(shq(`${name}=${value}`));
    }
  }
  // Always a limit (bounds.ts); `timeout 0` would mean none: the shortest sent is one millisecond.
  parts.push('timeout', '-s', 'KILL', (Math.max(runTimeoutMs(options), 1) / 1000).toFixed(3));
  parts.push('sh', '-c', shq(command));
  return parts.join(' ');
}
