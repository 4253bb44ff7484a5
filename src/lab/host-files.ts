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
