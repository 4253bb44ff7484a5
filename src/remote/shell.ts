/**
 * Shell pieces every layer runs on machines. Multi-step scripts run under `bash -euo
 * pipefail`: Debian's `sh` has no pipefail, so a failing `mariadb-dump` or `find` would hide
 * behind a succeeding `zstd` or `tar`.
 */
import { runChecked, shq, type Remote, type RunOptions, type RunResult } from './remote.ts';

export function bash(script: string): string {
  return `bash -c ${shq(`set -euo pipefail\n${script}`)}`;
}

export function runBash(remote: Remote, script: string, options?: RunOptions): Promise<RunResult> {
  return runChecked(remote, bash(script), options);
}

/** mktemp's template: ten random characters after the prefix. */
const RANDOM_PART = '.XXXXXXXXXX';
const under = (parent: string, name: string): string => `${parent.replace(/\/+$/, '')}/${name}`;

/** The name `privateWorkDir` gives a folder, for plans that show it before it exists. */
export const workDirTemplate = (parent: string, prefix: string): string => under(parent, `${prefix}${RANDOM_PART}`);

/**
 * A new work folder under `parent` that only this login can enter: made by `mktemp -d`
 * (mode 0700, a fresh unpredictable name, so never a folder someone else made first and
 * never one a symlink points elsewhere), then checked to be a real folder owned by us with
 * mode 0700 before anything is put in it. Dumps and archives pass through these folders.
 */
export async function privateWorkDir(remote: Remote, parent: string, prefix: string): Promise<string> {
  if (!/^[A-Za-z0-9._-]+$/.test(prefix)) throw new Error(`work folder prefix ${JSON.stringify(prefix)}: letters, digits, . _ - only`);
  const r = await runBash(
    remote,
    `umask 077; d=$(mktemp -d -p ${shq(parent)} ${shq(`${prefix}${RANDOM_PART}`)})
if [ -L "$d" ] || [ ! -d "$d" ] || [ "$(stat -c '%u %a' -- "$d")" != "$(id -u) 700" ]; then echo "work folder $d is not a private folder of ours" >&2; exit 1; fi
printf '%s' "$d"`,
    { timeoutMs: 30_000 },
  );
  const dir = r.stdout.trim();
  if (!dir.startsWith(under(parent, `${prefix}.`))) throw new Error(`mktemp on ${remote.machine} answered ${JSON.stringify(dir)}`);
  return dir;
}
