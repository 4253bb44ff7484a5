/**
 * Runs a program on the machine itself (outside any lab host) with a deadline. The lab
 * drives ip, nft, mount and nsenter through here; arguments are passed as a vector so no
 * shell ever re-parses a host name or a path.
 */
import { spawn } from 'node:child_process';
import { LabError } from './errors.ts';

export interface LocalResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface LocalOptions {
  timeoutMs?: number;
  stdin?: string | Buffer;
  env?: NodeJS.ProcessEnv;
}

export function runLocal(argv: readonly string[], options: LocalOptions = {}): Promise<LocalResult> {
  const [file, ...args] = argv;
  if (!file) throw new LabError('command-failed', 'empty command');
  const started = performance.now();
  const timeoutMs = options.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'], env: options.env ?? process.env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (cause) => {
      clearTimeout(timer);
      reject(new LabError('command-failed', `cannot run ${file}`, { cause }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) {
        reject(new LabError('timeout', `\`${argv.join(' ')}\` did not finish within ${timeoutMs} ms`));
        return;
      }
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        ms: performance.now() - started,
      });
    });
    child.stdin.on('error', () => {
      /* the program may exit before reading its input; its exit code tells the story */
    });
    child.stdin.end(options.stdin ?? '');
  });
}

/** Like `runLocal` but rejects with a `LabError` unless the program exits 0. */
export async function runLocalChecked(argv: readonly string[], options: LocalOptions = {}): Promise<LocalResult> {
  const result = await runLocal(argv, options);
  if (result.code !== 0) {
    const tail = (result.stderr || result.stdout).trim().split('\n').slice(-3).join(' | ');
    throw new LabError('command-failed', `\`${argv.join(' ')}\` exited ${result.code ?? result.signal}${tail ? `: ${tail}` : ''}`);
  }
  return result;
}
