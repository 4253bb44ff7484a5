/**
 * The limits every remote operation runs under: a command always has a time-out, what it
 * prints is kept within a bound, and each SFTP call has a deadline. A recovery that waits for
 * ever on a half-dead machine, or a command that floods the operator's memory, makes the
 * night worse; callers that know better pass their own time-out.
 */
import { brief } from './brief.ts';
import { RemoteError, type RunOptions } from './remote.ts';

/** A command's time-out when its caller gave none. */
export const DEFAULT_RUN_TIMEOUT_MS = 30 * 60_000;
/** Standard output beyond this fails the command: a truncated answer cannot be parsed as whole. */
export const MAX_STDOUT_BYTES = 64 << 20;
/** Standard error keeps its last part: its end says why a command failed. */
export const MAX_STDERR_BYTES = 1 << 20;
/** One SFTP request (stat, open, read a config file, rename…). */
export const SFTP_CALL_TIMEOUT_MS = 5 * 60_000;
/** One file copied over SFTP: dumps are large and links slow, but not for ever. */
export const SFTP_TRANSFER_TIMEOUT_MS = 6 * 60 * 60_000;

/** The refusal of a command that printed more than `MAX_STDOUT_BYTES`: every Remote says it the same way. */
export function outputTooLarge(machine: string, command: string): RemoteError {
  return new RemoteError('io-failed', machine, `\`${brief(command)}\` printed more than ${MAX_STDOUT_BYTES >> 20} MiB on standard output: not kept, and not taken as its answer`);
}

export function runTimeoutMs(options: RunOptions): number {
  return options.timeoutMs ?? DEFAULT_RUN_TIMEOUT_MS;
}

/** Collects a stream's chunks up to `limit` bytes, keeping the head (stdout) or the tail (stderr). */
export class BoundedOutput {
  private chunks: Buffer[] = [];
  private size = 0;
  /** Bytes that did not fit. */
  dropped = 0;

  constructor(private readonly limit: number, private readonly keep: 'head' | 'tail') {}

  push(chunk: Buffer): void {
    if (this.keep === 'head') {
      const room = this.limit - this.size;
      if (room <= 0) {
        this.dropped += chunk.length;
        return;
      }
      const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
      this.chunks.push(part);
      this.size += part.length;
      this.dropped += chunk.length - part.length;
      return;
    }
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size > this.limit && this.chunks.length > 0) {
      const first = this.chunks[0]!;
      const over = this.size - this.limit;
      if (first.length <= over) {
        this.chunks.shift();
        this.size -= first.length;
        this.dropped += first.length;
      } else {
        this.chunks[0] = first.subarray(over);
        this.size -= over;
        this.dropped += over;
      }
    }
  }

  /** What was kept, as bytes (the head, or the tail without its note). */
  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }

  toString(): string {
    const text = Buffer.concat(this.chunks).toString('utf8');
    return this.keep === 'tail' && this.dropped > 0 ? `[… ${this.dropped} earlier bytes not kept]\n${text}` : text;
  }
}

/** Rejects with `onTimeout()` when `promise` has not settled within `ms`. */
export function within<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
