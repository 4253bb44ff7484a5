/** Shell helpers the backups run on machines (the shared ones live in `remote/shell.ts`). */
import { runChecked, shq, type Remote } from '../remote/remote.ts';

export { shq };
export { bash, privateWorkDir, runBash, workDirTemplate } from '../remote/shell.ts';

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
