/**
 * Moves one file from a machine to another through the operator. Machines of the fleet may
 * not trust each other over SSH, so nothing is sent machine-to-machine. `Remote` has no
 * streaming primitive (stdout arrives as text), so the file takes a stop in a private temp
 * folder on the operator's disk: one download, one upload, then it is removed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Remote } from '../../remote/remote.ts';

export async function relayFile(from: Remote, fromPath: string, to: Remote, toPath: string, localTempDir = tmpdir()): Promise<void> {
  const dir = await mkdtemp(join(localTempDir, 'lifeboat-relay-'));
  try {
    const local = join(dir, 'payload');
    await from.download(fromPath, local);
    await to.upload(local, toPath);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
