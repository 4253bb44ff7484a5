/** What `lab status` and `lab list` report, computed from the live lab (not from memory). */
import { existsSync, readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import type { ActiveFault } from './fault-kinds.ts';
import type { LabView } from './lab-view.ts';
import { diskUsage } from './host-disk.ts';
import { labNamespaces, listNamespaces, portIsUp } from './network.ts';
import { pidsInNamespaces } from './teardown.ts';
import { LABS_ROOT, labPaths } from './paths.ts';
import type { LabHost } from './plan.ts';

export interface HostStatus {
  name: string;
  kind: LabHost['kind'];
  address: string;
  roles: string[];
  /** The host's PID 1 is alive. */
  running: boolean;
  /** Its switch port is up. */
  link: boolean;
  servers: Record<string, boolean>;
  /** Supervisor programs (the stand-in services) and their state: RUNNING, STOPPED, FATAL… */
  programs: Record<string, string>;
}

export interface LabStatus {
  id: string;
  fleetFile: string;
  hosts: HostStatus[];
  faults: ActiveFault[];
  memory: LabMemory;
}

export interface LabSummary {
  id: string;
  hosts: number;
  /** False for a half-built lab (namespaces without a state file): `lab down --id` removes it. */
  state: boolean;
}

async function hostStatus(lab: LabView, h: LabHost): Promise<HostStatus> {
  const running = lab.hostRunning(h.name);
  const servers: Record<string, boolean> = {};
  for (const server of lab.serversOf(h)) {
    servers[server.name] = running ? await server.running(lab.hostContext(h)).catch(() => false) : false;
  }
  const link = await portIsUp(lab.id, h).catch(() => false);
  const programs: Record<string, string> = {};
  if (servers.supervisor) {
    // `status` exits non-zero when a program is not running; its lines still say which.
    const r = await lab.exec(h.name, 'supervisorctl -c /etc/supervisor/supervisord.conf status', { timeoutMs: 10_000 }).catch(() => undefined);
    for (const line of r?.stdout.split('\n') ?? []) {
      const [program, state] = line.trim().split(/\s+/);
      if (program && state) programs[program] = state;
    }
  }
  return { name: h.name, kind: h.kind, address: h.address, roles: h.roles, running, link, servers, programs };
}

export async function labStatus(lab: LabView): Promise<LabStatus> {
  const hosts = await Promise.all(lab.hosts.map((h) => hostStatus(lab, h)));
  const memory = await labMemory(lab.id, lab.hosts.map((h) => lab.paths.host(h.name)));
  return { id: lab.id, fleetFile: lab.fleetFile, hosts, faults: [...lab.faults], memory };
}

export async function listLabs(): Promise<LabSummary[]> {
  const ids = new Set<string>();
  const withState = new Set<string>();
  for (const name of await readdir(LABS_ROOT).catch(() => [] as string[])) {
    if (/^[a-z][a-z0-9]{0,7}$/.test(name) && existsSync(labPaths(name).stateFile)) {
      ids.add(name);
      withState.add(name);
    }
  }
  const namespaces = await listNamespaces();
  for (const ns of namespaces) {
    const m = /^([a-z][a-z0-9]{0,7})-net$/.exec(ns);
    if (m?.[1]) ids.add(m[1]);
  }
  return [...ids].sort().map((id) => ({
    id,
    hosts: namespaces.filter((ns) => ns.startsWith(`${id}-`) && ns !== `${id}-net`).length,
    state: withState.has(id),
  }));
}

export interface LabMemory {
  processes: number;
  /** Proportional set size of every process in the lab's namespaces (shared pages split). */
  pssBytes: number;
  /** Bytes used on the hosts' disks, which are tmpfs: memory too. */
  diskBytes: number;
}

/** What the lab costs in memory right now (the budget is well under 2 GB). */
export async function labMemory(id: string, hostDirs: readonly string[]): Promise<LabMemory> {
  const pids = pidsInNamespaces(await labNamespaces(id));
  let pss = 0;
  for (const pid of pids) {
    try {
      pss += Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0) * 1024;
    } catch {
      /* exited meanwhile */
    }
  }
  let disk = 0;
  for (const dir of hostDirs) disk += await diskUsage(dir).then((u) => u.used).catch(() => 0);
  return { processes: pids.length, pssBytes: pss, diskBytes: disk };
}

export function mib(bytes: number): string {
  return `${Math.round(bytes / 1024 / 1024)} MiB`;
}
