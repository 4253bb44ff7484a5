/**
 * Each host's "disk": a size-limited tmpfs mounted on the machine at `hosts/<name>`, holding
 * all of the host's own folders. It outlives the host's processes (a machine that comes back
 * keeps its data, as a real one does) and its size can be shrunk to simulate a full disk
 * without writing gigabytes.
 */
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { runLocal, runLocalChecked } from './run.ts';

export const DISK_SIZE = '2g';

/** Mount points on the machine, from the kernel's own table (octal escapes decoded). */
export function machineMounts(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => (line.split(' ')[4] ?? '').replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
}

export async function ensureHostDisk(dir: string, size = DISK_SIZE): Promise<void> {
  await mkdir(dir, { recursive: true });
  if (machineMounts().includes(dir)) return;
  await runLocalChecked(['mount', '-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'lifeboat-lab-disk', dir]);
}

/** Bytes used and total of a host's disk. */
export async function diskUsage(dir: string): Promise<{ used: number; size: number }> {
  const { stdout } = await runLocalChecked(['df', '-B1', '--output=used,size', dir]);
  const [used, size] = (stdout.trim().split('\n')[1] ?? '').trim().split(/\s+/).map(Number);
  return { used: used ?? 0, size: size ?? 0 };
}

export async function resizeHostDisk(dir: string, size: string): Promise<void> {
  await runLocalChecked(['mount', '-o', `remount,size=${size}`, dir]);
}

/** Unmounts every mount at or below `dir`, deepest first. */
export async function unmountBelow(dir: string): Promise<void> {
  const under = machineMounts()
    .filter((m) => m === dir || m.startsWith(dir + '/'))
    .sort((a, b) => b.length - a.length);
  for (const m of under) await runLocal(['umount', '-l', m]);
}
