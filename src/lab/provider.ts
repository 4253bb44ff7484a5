/**
 * The lab's stand-in for a hosting provider's power control, which a fleet's
 * `fencing.command` calls in real life (a provider's CLI or API: "power this machine off").
 * A lab host's power is cut only by a `machine-down` fault; the lab records it here, in the
 * shared folder every host sees read-only. The derived fleet's fencing command asks this
 * record, so the daemon (which has no person to say "I pulled the plug") can fence a host
 * the lab powered off, and cannot fence one that is running: a partitioned host stays
 * unfenced, as it would with a provider whose API cannot reach it either. A real fleet's
 * own fencing command is never run by the lab.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LabPaths } from './paths.ts';

const powerDir = (paths: LabPaths) => join(paths.shared, 'power');
const script = (paths: LabPaths) => join(paths.shared, 'provider-poweroff.sh');

/** Records that `host` is powered off (true) or on (false). */
export async function setPoweredOff(paths: LabPaths, host: string, off: boolean): Promise<void> {
  const file = join(powerDir(paths), host);
  if (off) {
    await mkdir(powerDir(paths), { recursive: true, mode: 0o755 });
    await writeFile(file, 'off\n', { mode: 0o644 });
  } else {
    await rm(file, { force: true });
  }
}

/** Writes the script the derived fleet's `fencing.command` runs; returns that command. */
export async function writeProviderScript(paths: LabPaths): Promise<string> {
  await mkdir(powerDir(paths), { recursive: true, mode: 0o755 });
  await writeFile(script(paths), `#!/bin/sh
# Written by lifeboat's lab (src/lab/provider.ts): the lab's provider power-off. Exit 0 when
# the machine is off; a running lab host cannot be powered off from inside the lab.
case "$LIFEBOAT_MACHINE" in ''|*/*|.*) echo "no machine named" >&2; exit 2;; esac
if [ "$(cat "${powerDir(paths)}/$LIFEBOAT_MACHINE" 2>/dev/null)" = off ]; then
  echo "$LIFEBOAT_MACHINE is powered off"
  exit 0
fi
echo "the lab's provider cannot power off $LIFEBOAT_MACHINE: it is running (only a machine-down fault cuts a lab host's power)" >&2
exit 1
`, { mode: 0o755 });
  return `sh ${script(paths)}`;
}
