/**
 * The shared `Remote` contract suite run against `LabRemote` (nsenter into a lab host). The
 * suite prepares and inspects files on the machine under tmpdir(); the lab's exchange folder
 * has the same path on the machine and in every host, so TMPDIR points there.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Lab } from '../../src/lab/lab.ts';
import { remoteContract } from '../../src/remote/remote.case.ts';
import { canRunLab, forceDown, randomLabId } from './helpers.ts';

const ONE_MACHINE = `version: 1
name: one
machines:
  - { name: solo, address: 192.0.2.1, roles: [backup-store] }
`;

if (!canRunLab()) {
  remoteContract('LabRemote (nsenter into a lab host)', async () => {
    const id = randomLabId();
    const dir = await mkdtemp('/var/tmp/lifeboat-lab-remote-');
    const fleetFile = join(dir, 'fleet.yaml');
    await writeFile(fleetFile, ONE_MACHINE);
    const lab = await Lab.up({ id, fleetFile });
    process.env.TMPDIR = lab.paths.exchange; // the suite calls tmpdir() after this setup
    return {
      remote: lab.remote('solo'),
      cleanup: async () => {
        await forceDown(id);
        await rm(dir, { recursive: true, force: true });
      },
    };
  });
}
