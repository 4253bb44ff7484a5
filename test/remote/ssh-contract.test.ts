// The shared Remote contract, run against SshRemote and a real Debian sshd on 127.0.0.1.
import { remoteContract } from '../../src/remote/remote.case.ts';
import { sshRemoteTo, startSshd } from '../support/sshd.ts';

remoteContract('SshRemote', async () => {
  const sshd = await startSshd();
  const remote = sshRemoteTo(sshd, 'lab-ssh');
  return { remote, cleanup: () => sshd.stop() };
});
