/**
 * Runs a command inside a lab host: `nsenter` into the anchor's mount, network, UTS and PID
 * namespaces (without -p, /proc/self and ps break), with a clean environment as an SSH
 * session would have. A timeout kills the command's whole process group.
 */
import { spawn } from 'node:child_process';
import { BoundedOutput, MAX_STDERR_BYTES, MAX_STDOUT_BYTES, outputTooLarge } from '../remote/bounds.ts';
import { RemoteError, RemoteTimeoutError, type RunOptions } from '../remote/remote.ts';

export const HOST_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface RawResult {
  code: number | null;
  signal: string | null;
  stdout: Buffer;
  stderr: Buffer;
  ms: number;
}

export function nsenterArgv(anchorPid: number, host: string, command: string, env: Record<string, string> = {}): string[] {
  const vars = Object.entries({ PATH: HOST_PATH, HOME: '/root', LANG: 'C.UTF-8', USER: 'root', LOGNAME: 'root', SHELL: '/bin/sh', HOSTNAME: host, ...env });
  return [
    'nsenter', '-t', String(anchorPid), '-m', '-n', '-u', '-p', '--root', '--wd', '--',
    'env', '-i', ...vars.map(([k, v]) => `${k}=${v}`), '/bin/sh', '-c', command,
  ];
}

/** `bounded`: the limits of remote/bounds.ts (a `Remote.run` keeps them; a file read through stdout does not). */
export function execRaw(anchorPid: number, host: string, command: string, options: RunOptions = {}, bounded = false): Promise<RawResult> {
  const started = performance.now();
  const [file, ...args] = nsenterArgv(anchorPid, host, command, options.env);
  return new Promise((resolve, reject) => {
    // Own process group: on timeout the whole tree goes, not only nsenter.
    const child = spawn(file!, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    const out = new BoundedOutput(bounded ? MAX_STDOUT_BYTES : Number.MAX_SAFE_INTEGER, 'head');
    const err = new BoundedOutput(bounded ? MAX_STDERR_BYTES : Number.MAX_SAFE_INTEGER, 'tail');
    let timedOut = false;
    const timer =
      options.timeoutMs !== undefined
        ? setTimeout(() => {
            timedOut = true;
            try {
              process.kill(-child.pid!, 'SIGKILL');
            } catch {
              /* gone already */
            }
          }, options.timeoutMs)
        : undefined;
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (cause) => {
      clearTimeout(timer);
      reject(new RemoteError('connect-failed', host, 'cannot run nsenter', { cause }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) {
        reject(new RemoteTimeoutError(host, `\`${command.slice(0, 80)}\``, options.timeoutMs!));
        return;
      }
      if (out.dropped > 0) {
        reject(outputTooLarge(host, command));
        return;
      }
      resolve({ code, signal, stdout: out.bytes(), stderr: Buffer.from(err.toString()), ms: performance.now() - started });
    });
    child.stdin.on('error', () => {
      /* the command may not read its input */
    });
    child.stdin.end(options.stdin ?? '');
  });
}

