/**
 * sshd on every fleet machine and spare: ed25519 host key only (RSA keygen costs ~1 s a
 * host), root logs in with the lab's client key, nothing else. The lab's known_hosts lists
 * every host's key so lifeboat's strict host-key checking works unchanged.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runLocalChecked } from '../run.ts';
import { execChecked, pidAlive, waitTcp, type HostContext, type LabServer } from './context.ts';
import { putDir, putFile, seedFrom } from './files.ts';

const HOST_KEY = 'ssh_host_ed25519_key';

export function sshdConfig(address: string): string {
  return `# Written by lifeboat's lab.
ListenAddress ${address}
Port 22
HostKey /etc/ssh/${HOST_KEY}
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
AuthorizedKeysFile .ssh/authorized_keys
PidFile /run/sshd.pid
MaxStartups 100:30:200
MaxSessions 64
UseDNS no
AcceptEnv LANG LC_*
Subsystem sftp /usr/lib/openssh/sftp-server
`;
}

/** Generates a key pair once; later calls keep it. */
export async function ensureKeyPair(privatePath: string, comment: string): Promise<void> {
  if (existsSync(privatePath)) return;
  await runLocalChecked(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', privatePath]);
}

export function hostPublicKeyPath(ctx: Pick<HostContext, 'dir'>): string {
  return join(ctx.dir, 'etc-ssh', `${HOST_KEY}.pub`);
}

export const sshd: LabServer = {
  name: 'sshd',
  wants: (host) => host.kind === 'fleet' || host.kind === 'spare',
  async configure(ctx) {
    const etc = join(ctx.dir, 'etc-ssh');
    // Client settings come along (ssh from this host must work); the machine's host keys do not.
    await seedFrom('/etc/ssh', etc, (name) => name.startsWith('ssh_host_') || name === 'sshd_config' || name === 'sshd_config.d');
    await ensureKeyPair(join(etc, HOST_KEY), `root@${ctx.host.name}`);
    await putFile(join(etc, 'sshd_config'), sshdConfig(ctx.host.address));
    await putDir(join(ctx.dir, 'root', '.ssh'), { mode: 0o700 });
    const clientKey = await readFile(join(ctx.paths.ssh, 'id_ed25519.pub'), 'utf8');
    await putFile(join(ctx.dir, 'root', '.ssh', 'authorized_keys'), clientKey, { mode: 0o600 });
    await putDir(join(ctx.dir, 'run', 'sshd'), { mode: 0o755 });
  },
  async running(ctx) {
    return (await ctx.exec(pidAlive('/run/sshd.pid'))).code === 0;
  },
  async start(ctx) {
    await execChecked(ctx, `rm -f /run/sshd.pid; mkdir -p /run/sshd; chmod 755 /run/sshd; setsid -f /usr/sbin/sshd -D -e >>/var/log/sshd.log 2>&1 </dev/null; ${waitTcp(ctx.host.address, 22)}`);
  },
};
