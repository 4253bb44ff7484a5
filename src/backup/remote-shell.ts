/**
 * Shell helpers for commands that run on a machine. Pipelines matter here (`mariadb-dump |
 * zstd`): Debian's `sh` has no pipefail, so a failing dump would hide behind a succeeding
 * compressor. Every multi-step script therefore runs under `bash -euo pipefail`.
 */
import { runChecked, shq, type Remote, type RunOptions, type RunResult } from '../remote/remote.ts';

export { shq };

export function bash(script: string): string {
  return `bash -c ${shq(`set -euo pipefail\n${script}`)}`;
}

export function runBash(remote: Remote, script: string, options?: RunOptions): Promise<RunResult> {
  return runChecked(remote, bash(script), options);
}

/** `sha256sum` of one file on the machine. */
export async function sha256On(remote: Remote, path: string): Promise<string> {
  const r = await runChecked(remote, `sha256sum -- ${shq(path)}`, { timeoutMs: 30 * 60_000 });
  const sum = r.stdout.trim().split(/\s+/)[0] ?? '';
  if (!/^[0-9a-f]{64}$/.test(sum)) throw new Error(`unexpected sha256sum output for ${path}`);
  return sum;
}

export async function sizeOn(remote: Remote, path: string): Promise<number> {
  const r = await runChecked(remote, `stat -c %s -- ${shq(path)}`);
  return Number(r.stdout.trim());
}
