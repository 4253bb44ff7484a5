/**
 * Takes a lab apart so nothing is left: each host's PID 1 first (the kernel then kills the
 * host's processes), then any process still holding one of the lab's network namespaces
 * (found by the namespace inode, killed by pid), then the namespaces, then the disks.
 * `ip netns del` on a namespace with processes inside would leave it alive and invisible.
 */
import { readdirSync, readlinkSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { killPid, stopAnchor, type PidRef } from './anchor.ts';
import { LabError } from './errors.ts';
import { machineMounts, unmountBelow } from './host-disk.ts';
import { deleteNamespace, labNamespaces } from './network.ts';
import { labPaths } from './paths.ts';

/** Pids of processes whose network namespace is one of `namespaces`. */
export function pidsInNamespaces(namespaces: readonly string[]): number[] {
  const inodes = new Set<string>();
  for (const ns of namespaces) {
    try {
      inodes.add(`net:[${statSync(`/run/netns/${ns}`).ino}]`);
    } catch {
      /* already gone */
    }
  }
  if (inodes.size === 0) return [];
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (inodes.has(readlinkSync(`/proc/${entry}/ns/net`))) pids.push(Number(entry));
    } catch {
      /* exited meanwhile, or a kernel thread */
    }
  }
  return pids;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Leftovers {
  namespaces: string[];
  processes: number[];
  mounts: string[];
}

export async function findLeftovers(id: string): Promise<Leftovers> {
  const namespaces = await labNamespaces(id);
  const root = labPaths(id).root;
  return {
    namespaces,
    processes: pidsInNamespaces(namespaces),
    mounts: machineMounts().filter((m) => m === root || m.startsWith(root + '/')),
  };
}

export async function teardown(id: string, anchors: Record<string, PidRef>): Promise<void> {
  await Promise.all(Object.values(anchors).map((ref) => stopAnchor(ref).catch(() => undefined)));
  const namespaces = await labNamespaces(id);
  for (let round = 0; round < 50; round++) {
    const pids = pidsInNamespaces(namespaces);
    if (pids.length === 0) break;
    for (const pid of pids) killPid(pid);
    await sleep(20);
  }
  const stubborn = pidsInNamespaces(namespaces);
  if (stubborn.length > 0) throw new LabError('leftover', `processes ${stubborn.join(', ')} survived SIGKILL in lab ${id}'s namespaces`);
  for (const ns of namespaces) await deleteNamespace(ns);
  const paths = labPaths(id);
  await unmountBelow(paths.root);
  await rm(paths.root, { recursive: true, force: true });
  const left = await findLeftovers(id);
  if (left.namespaces.length || left.processes.length || left.mounts.length) {
    throw new LabError('leftover', `lab ${id} left ${JSON.stringify(left)}`);
  }
}
