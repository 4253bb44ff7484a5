/**
 * Faults the lab injects and heals, each as it looks from the outside (LAB-NOTES table):
 * a dead machine loses its processes AND its cable; blocks live on the switch (nftables
 * `table bridge` in `<id>-net`), so the blocked hosts themselves see nothing change;
 * a blocked domain is a poisoned answer in the client's DNS view only. Every fault in force
 * is recorded in the lab's state, so `lab status` shows it and `lab heal` can undo it.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { shq } from '../remote/remote.ts';
import { LabError } from './errors.ts';
import { DISK_SIZE, diskUsage, resizeHostDisk } from './host-disk.ts';
import type { LabView } from './lab-view.ts';
import { describeFault, FAULT_KINDS, sameFault, type ActiveFault, type FaultSpec } from './fault-kinds.ts';
import { loadSwitchRules, setPort } from './network.ts';
import { SINKHOLE_ADDRESS, type LabHost, type LabPlan } from './plan.ts';
import { clientHost, dnsHost, labDomains, reloadNamed, writeNamedConf } from './servers/bind.ts';
import { mariadb } from './servers/mariadb.ts';
import { setPoweredOff } from './provider.ts';
import { runLocal } from './run.ts';

export const FAULT_TABLE = 'lifeboat_faults';
const FILLER = '.lab-disk-full';

/** The switch's ruleset for the blocking faults in force (an empty table when none). */
export function switchRuleset(lab: { host(name: string): Pick<LabHost, 'address'> }, faults: readonly FaultSpec[], clientAddress: string): string {
  const rules: string[] = [];
  const between = (a: string, b: string) => {
    rules.push(`    ip saddr ${a} ip daddr ${b} drop`, `    ip saddr ${b} ip daddr ${a} drop`);
  };
  for (const f of faults) {
    if (f.kind === 'partition') {
      const addresses = f.hosts.map((h) => lab.host(h).address);
      for (let i = 0; i < addresses.length; i++) for (let j = i + 1; j < addresses.length; j++) between(addresses[i]!, addresses[j]!);
    } else if (f.kind === 'ip-blocked') {
      between(clientAddress, lab.host(f.host).address);
    } else if (f.kind === 'port-blocked') {
      const address = lab.host(f.host).address;
      rules.push(`    ip daddr ${address} tcp dport ${f.port} drop`, `    ip saddr ${address} tcp sport ${f.port} drop`);
    }
  }
  return [
    // Declaring the table first makes the delete safe when it does not exist yet.
    `table bridge ${FAULT_TABLE}`,
    `delete table bridge ${FAULT_TABLE}`,
    `table bridge ${FAULT_TABLE} {`,
    '  chain forward {',
    '    type filter hook forward priority 0; policy accept;',
    ...rules,
    '  }',
    '}',
    '',
  ].join('\n');
}

/**
 * After `lab up` re-created or checked the switch: the blocks and pulled cables recorded in
 * the state are put back (a re-created switch namespace starts without them).
 */
export async function reapplySwitchFaults(id: string, plan: LabPlan, faults: readonly FaultSpec[]): Promise<void> {
  const byName = new Map(plan.hosts.map((h) => [h.name, h]));
  const view = {
    host: (name: string) => {
      const h = byName.get(name);
      if (!h) throw new LabError('unknown-host', `fault names host ${name}, which the lab does not have`);
      return h;
    },
  };
  const client = clientHost(plan);
  await loadSwitchRules(id, switchRuleset(view, faults, client?.address ?? '0.0.0.0'));
  for (const f of faults) if (f.kind === 'machine-down' || f.kind === 'link-down') await setPort(id, view.host(f.host), false);
}

async function applySwitchRules(lab: LabView, faults: readonly FaultSpec[]): Promise<void> {
  const client = clientHost(lab.plan);
  await loadSwitchRules(lab.id, switchRuleset(lab, faults, client?.address ?? '0.0.0.0'));
}

async function applyDnsBlocks(lab: LabView, faults: readonly FaultSpec[]): Promise<void> {
  const dns = dnsHost(lab.plan);
  if (!dns) throw new LabError('bad-fault', 'the lab has no dns host');
  const blocked = new Set(faults.flatMap((f) => (f.kind === 'domain-blocked' ? [f.domain] : [])));
  const ctx = lab.hostContext(dns);
  await writeNamedConf(ctx, blocked);
  await reloadNamed(ctx);
  // named reloads in the background: wait (bounded) until the client's view answers as intended.
  const client = clientHost(lab.plan)!;
  for (const { domain, address } of labDomains(lab.plan)) {
    const want = blocked.has(domain) ? SINKHOLE_ADDRESS : address;
    let got = '';
    for (let i = 0; i < 100; i++) {
      got = (await lab.exec(client.name, `dig +short +time=1 +tries=1 A ${shq(domain)}`)).stdout.trim();
      if (got === want) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    if (got !== want) throw new LabError('timeout', `DNS for ${domain} from the client answers "${got}", expected ${want}`);
  }
}

function checkSpec(lab: LabView, spec: FaultSpec): void {
  const managed = (name: string): LabHost => {
    const h = lab.host(name);
    if (h.kind === 'dns' || h.kind === 'client') throw new LabError('bad-fault', `${spec.kind} on ${name}: the lab's own ${h.kind} host cannot take this fault`);
    return h;
  };
  switch (spec.kind) {
    case 'partition':
      if (spec.hosts.length < 2) throw new LabError('bad-fault', 'partition: name at least two hosts that must not reach each other');
      spec.hosts.forEach((h) => lab.host(h));
      return;
    case 'port-blocked':
      managed(spec.host);
      if (!Number.isInteger(spec.port) || spec.port < 1 || spec.port > 65535) throw new LabError('bad-fault', `port-blocked: ${spec.port} is not a TCP port`);
      return;
    case 'domain-blocked':
      if (!labDomains(lab.plan).some((d) => d.domain === spec.domain)) {
        throw new LabError('bad-fault', `domain-blocked: ${spec.domain} is not a domain of the fleet (${labDomains(lab.plan).map((d) => d.domain).join(', ')})`);
      }
      return;
    case 'mariadb-crashed':
      if (!lab.serversOf(managed(spec.host)).includes(mariadb)) throw new LabError('bad-fault', `mariadb-crashed: ${spec.host} runs no MariaDB`);
      return;
    default:
      managed(spec.host);
  }
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new LabError('timeout', `${what} did not happen within ${timeoutMs} ms`);
}

async function inject(lab: LabView, spec: FaultSpec, after: readonly FaultSpec[]): Promise<void> {
  switch (spec.kind) {
    case 'machine-down': {
      const host = lab.host(spec.host);
      await setPort(lab.id, host, false);
      await lab.stopHost(host);
      await setPoweredOff(lab.paths, spec.host, true);
      return;
    }
    case 'link-down':
      await setPort(lab.id, lab.host(spec.host), false);
      return;
    case 'partition':
    case 'ip-blocked':
    case 'port-blocked':
      await applySwitchRules(lab, after);
      return;
    case 'domain-blocked':
      await applyDnsBlocks(lab, after);
      return;
    case 'service-crashed': {
      const r = await lab.exec(spec.host, `supervisorctl -c /etc/supervisor/supervisord.conf stop ${shq(spec.program)}`);
      if (r.code !== 0 || /ERROR/.test(r.stdout)) {
        throw new LabError('bad-fault', `service-crashed: ${spec.host} cannot stop program ${spec.program}: ${(r.stdout + r.stderr).trim()}`);
      }
      return;
    }
    case 'mariadb-crashed': {
      const ctx = lab.hostContext(lab.host(spec.host));
      await mariadb.stop!(ctx, 'crash');
      await waitUntil(`mariadbd on ${spec.host} dying`, async () => !(await mariadb.running(ctx)));
      return;
    }
    case 'disk-full': {
      const dir = lab.paths.host(spec.host);
      const { used } = await diskUsage(dir);
      // Shrinking the tmpfs to what is used (plus a little, then filled) costs no memory.
      await resizeHostDisk(dir, String(used + 4 * 1024 * 1024));
      await runLocal(['dd', 'if=/dev/zero', `of=${join(dir, FILLER)}`, 'bs=4096'], { timeoutMs: 30_000 });
      return;
    }
  }
}

async function undo(lab: LabView, spec: FaultSpec, after: readonly FaultSpec[]): Promise<void> {
  switch (spec.kind) {
    case 'machine-down': {
      const host = lab.host(spec.host);
      await setPoweredOff(lab.paths, spec.host, false);
      await setPort(lab.id, host, true);
      await lab.startHost(host);
      return;
    }
    case 'link-down':
      await setPort(lab.id, lab.host(spec.host), true);
      return;
    case 'partition':
    case 'ip-blocked':
    case 'port-blocked':
      await applySwitchRules(lab, after);
      return;
    case 'domain-blocked':
      await applyDnsBlocks(lab, after);
      return;
    case 'service-crashed': {
      const r = await lab.exec(spec.host, `supervisorctl -c /etc/supervisor/supervisord.conf start ${shq(spec.program)}`);
      if (r.code !== 0 && !/already started/.test(r.stdout)) {
        throw new LabError('command-failed', `${spec.host}: cannot start ${spec.program}: ${(r.stdout + r.stderr).trim()}`);
      }
      return;
    }
    case 'mariadb-crashed': {
      const ctx = lab.hostContext(lab.host(spec.host));
      if (!(await mariadb.running(ctx))) await mariadb.start(ctx);
      return;
    }
    case 'disk-full': {
      const dir = lab.paths.host(spec.host);
      await rm(join(dir, FILLER), { force: true });
      await resizeHostDisk(dir, DISK_SIZE);
      return;
    }
  }
}

export async function applyFault(lab: LabView, spec: FaultSpec): Promise<void> {
  checkSpec(lab, spec);
  if (lab.faults.some((f) => sameFault(f, spec))) return;
  const after: ActiveFault[] = [...lab.faults, { ...spec, since: new Date().toISOString() } as ActiveFault];
  // Recorded first: a bring-up racing with the fault must not restart what it stops.
  await lab.recordFaults(after);
  try {
    await inject(lab, spec, after);
  } catch (error) {
    await lab.recordFaults(after.filter((f) => !sameFault(f, spec)));
    throw error;
  }
}

/** Heals `spec`, or every fault in force. Throws when `spec` is not in force. */
export async function healFaults(lab: LabView, spec?: FaultSpec): Promise<void> {
  const targets = spec ? lab.faults.filter((f) => sameFault(f, spec)) : [...lab.faults];
  if (spec && targets.length === 0) {
    throw new LabError('bad-fault', `no fault "${describeFault(spec)}" in force (in force: ${lab.faults.map(describeFault).join('; ') || 'none'})`);
  }
  for (const fault of targets) {
    const after = lab.faults.filter((f) => !sameFault(f, fault));
    await lab.recordFaults(after);
    try {
      await undo(lab, fault, after);
    } catch (error) {
      await lab.recordFaults([...lab.faults, fault]);
      throw error;
    }
  }
}

/** Parses `lab fault KIND TARGET...` arguments into a fault. */
export function parseFault(kind: string, args: readonly string[]): FaultSpec {
  const need = (n: number, usage: string) => {
    if (args.length !== n) throw new LabError('bad-fault', `usage: lab fault ${kind} ${usage}`);
  };
  switch (kind) {
    case 'machine-down':
    case 'link-down':
    case 'ip-blocked':
    case 'mariadb-crashed':
    case 'disk-full':
      need(1, 'HOST');
      return { kind, host: args[0]! };
    case 'partition':
      if (args.length < 2) throw new LabError('bad-fault', 'usage: lab fault partition HOST HOST [HOST...]');
      return { kind, hosts: [...args] };
    case 'port-blocked':
      need(2, 'HOST PORT');
      return { kind, host: args[0]!, port: Number(args[1]) };
    case 'domain-blocked':
      need(1, 'DOMAIN');
      return { kind, domain: args[0]! };
    case 'service-crashed':
      need(2, 'HOST PROGRAM');
      return { kind, host: args[0]!, program: args[1]! };
    default:
      throw new LabError('bad-fault', `unknown fault "${kind}"; one of: ${FAULT_KINDS.join(', ')}`);
  }
}
