/** The few single files each host gets of its own: /etc/hosts, /etc/resolv.conf, /etc/hostname. */
import { join } from 'node:path';
import type { LabHost, LabPlan } from './plan.ts';
import { putFile } from './servers/files.ts';

export function hostsFile(plan: LabPlan): string {
  const lines = ['127.0.0.1\tlocalhost', ...plan.hosts.map((h) => `${h.address}\t${h.name}`)];
  return `# Written by lifeboat's lab "${plan.id}".\n${lines.join('\n')}\n`;
}

export function resolvConf(plan: LabPlan): string {
  const dns = plan.hosts.find((h) => h.kind === 'dns');
  return `# Written by lifeboat's lab: the lab's BIND is the only resolver.\nnameserver ${dns?.address ?? '127.0.0.1'}\noptions timeout:1 attempts:1\n`;
}

export async function writeHostFiles(dir: string, plan: LabPlan, host: LabHost): Promise<void> {
  const files = join(dir, 'files');
  await putFile(join(files, 'hosts'), hostsFile(plan));
  await putFile(join(files, 'resolv.conf'), resolvConf(plan));
  await putFile(join(files, 'hostname'), `${host.name}\n`);
}

/** On the operator's host a plain `ssh primary` works, with strict host-key checking. */
export function operatorSshConfig(sshDir: string): string {
  return `# Written by lifeboat's lab.
Host *
  User root
  IdentityFile ${sshDir}/id_ed25519
  UserKnownHostsFile ${sshDir}/known_hosts
  StrictHostKeyChecking yes
  ConnectTimeout 3
`;
}

export async function writeOperatorFiles(dir: string, sshDir: string): Promise<void> {
  await putFile(join(dir, 'root', '.ssh', 'config'), operatorSshConfig(sshDir), { mode: 0o600 });
}
