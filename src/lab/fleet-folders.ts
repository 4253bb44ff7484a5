/**
 * Every folder the fleet names (service dirs, binding files' folders, dataDirs, dumpDir,
 * installDir, nginx site files and upstream file, extraDirs) must be private and writable
 * in each lab host, as on real machines. The fixed HOST_FOLDERS cover the servers the lab
 * runs; this derives the rest from the fleet file:
 * - a path under a top-level folder the machine does not need inside hosts (`/srv`, `/data`,
 *   `/wwwroot`…) gets that whole top-level folder per host;
 * - a path under `/etc` or `/var` (shared from the machine, read-only or shared) gets its
 *   deepest existing ancestor two levels down (`/var/backups`, `/etc/myapp`) per host: a
 *   bind needs a mount point, and nothing is ever created on the machine itself;
 * - anything else (under `/usr`, `/proc`…) cannot be private per host and is refused.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Fleet } from '../fleet/schema.ts';
import { HOST_FOLDERS } from './paths.ts';

export interface HostFolder {
  /** Folder name under the host's disk. */
  folder: string;
  /** Where it is bound inside the host. */
  path: string;
  /** A new top-level folder in the host's root (mkdir before the bind). */
  topLevel: boolean;
}

/** Top-level folders a host takes from the machine; a fleet path under one cannot be its own top-level folder. */
const SYSTEM = new Set(['usr', 'etc', 'var', 'proc', 'sys', 'dev', 'bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32', 'run', 'tmp', 'root', 'lifeboat', 'lab', 'mnt', 'boot']);

/** The absolute paths the fleet file names as folders. */
export function fleetFolderPaths(fleet: Fleet): string[] {
  const paths = [
    ...Object.values(fleet.services).flatMap((s) => [s.dir, ...s.dataDirs]),
    ...fleet.bindings.map((b) => dirname(b.file)),
    ...fleet.extraDirs.map((d) => d.path),
    ...(fleet.backups ? [fleet.backups.dumpDir, fleet.backups.installDir] : []),
    ...(fleet.nginx ? [dirname(fleet.nginx.upstreamFile), ...fleet.nginx.siteFiles] : []),
  ];
  return [...new Set(paths)];
}

const covered = (path: string, by: string) => path === by || path.startsWith(`${by}/`);
const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();

export function fleetHostFolders(fleet: Fleet, exists: (path: string) => boolean = isDir): { folders: HostFolder[]; problems: string[] } {
  const fixed = HOST_FOLDERS.map((f) => f.path);
  const out = new Map<string, HostFolder>();
  const problems: string[] = [];
  for (const path of fleetFolderPaths(fleet)) {
    if ([...fixed, ...out.keys()].some((f) => covered(path, f))) continue;
    const parts = path.split('/').filter(Boolean);
    const top = parts[0];
    if (!top) continue;
    if (!SYSTEM.has(top)) {
      const at = `/${top}`;
      out.set(at, { folder: `fleet-${top}`, path: at, topLevel: true });
      continue;
    }
    if (top === 'etc' || top === 'var') {
      let anchor: string | undefined;
      for (let depth = parts.length; depth >= 2; depth--) {
        const candidate = `/${parts.slice(0, depth).join('/')}`;
        if (exists(candidate)) {
          anchor = candidate;
          break;
        }
      }
      if (!anchor) {
        problems.push(`${path}: the lab can make it private per host only under a folder that exists on this machine (/${top}/${parts[1] ?? ''} does not)`);
        continue;
      }
      out.set(anchor, { folder: `fleet${anchor.replace(/\//g, '-')}`, path: anchor, topLevel: false });
      continue;
    }
    problems.push(`${path}: under /${top}, which lab hosts share with the machine; the lab cannot give each host its own`);
  }
  // Shallow first, so a deeper bind lands inside the folder bound above it.
  const folders = [...out.values()].filter((f, _, all) => !all.some((o) => o !== f && covered(f.path, o.path)));
  folders.sort((a, b) => a.path.length - b.path.length);
  return { folders, problems };
}
