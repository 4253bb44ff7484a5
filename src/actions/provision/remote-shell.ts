/** Shell pieces the provisioning actions run on machines (the shared ones live in `remote/shell.ts`). */
import { RemoteError, runChecked, shq, type Remote } from '../../remote/remote.ts';

export { shq };
export { bash, runBash } from '../../remote/shell.ts';

/** True when `path` exists on the machine (any kind of file). */
export async function existsOn(remote: Remote, path: string): Promise<boolean> {
  const r = await remote.run(`test -e ${shq(path)} || test -L ${shq(path)}`);
  return r.code === 0;
}

/** The file's text, or undefined when it does not exist. */
export async function readTextOrUndefined(remote: Remote, path: string): Promise<string | undefined> {
  try {
    return (await remote.readFile(path)).toString('utf8');
  } catch (error) {
    if (error instanceof RemoteError && error.code === 'file-not-found') return undefined;
    throw error;
  }
}

/**
 * A bounded shell loop that waits until `check` succeeds; prints `what` and fails after
 * `timeoutMs`. Polling runs on the machine, so each try costs no round trip.
 */
export function waitUntil(check: string, what: string, timeoutMs: number, stepS = 0.1): string {
  const tries = Math.max(1, Math.ceil(timeoutMs / (stepS * 1000)));
  return `i=0; until ${check}; do i=$((i+1)); if [ $i -ge ${tries} ]; then echo ${shq(`${what} within ${timeoutMs} ms`)} >&2; exit 1; fi; sleep ${stepS}; done`;
}
