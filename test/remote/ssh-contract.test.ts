// The shared Remote contract, run against SshRemote and a real Debian sshd on 127.0.0.1.
import { readFile } from 'node:fs/promises';
import { remoteContract } from '../../src/remote/remote.case.ts';
import { SshRemote } from '../../src/remote/ssh.ts';
import { startSshd } from '../support/sshd.ts';

remoteContract('SshRemote', async () => {
  const sshd = await startSshd();
  const remote = new SshRemote({
    machine: 'lab-ssh',
    host: sshd.host,
    port: sshd.port,
    knownHostsFile: sshd.knownHostsFile,
    privateKey: () => readFile(sshd.identityFile),
  });
  return { remote, cleanup: () => sshd.stop() };
});
