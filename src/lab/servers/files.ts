/** Writing into a host's folders from the machine, before or while the host runs. */
import { execFileSync } from 'node:child_process';
import { chmod, chown, cp, mkdir, readdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

const ids = new Map<string, { uid: number; gid: number }>();

/** uid/gid of a system account (mysql, redis, bind…); /etc/passwd is shared with the hosts. */
export function account(user: string): { uid: number; gid: number } {
  let known = ids.get(user);
  if (!known) {
    const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
    known = { uid, gid };
    ids.set(user, known);
  }
  return known;
}

export interface HostFileOptions {
  mode?: number;
  owner?: string;
}

/** Writes a file atomically (temp + rename) and sets its owner. */
export async function putFile(path: string, content: string | Buffer, options: HostFileOptions = {}): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.lab-tmp-${process.pid}`;
  await writeFile(temp, content, { mode: options.mode ?? 0o644 });
  if (options.owner) {
    const { uid, gid } = account(options.owner);
    await chown(temp, uid, gid);
  }
  await rename(temp, path);
}

export async function putDir(path: string, options: HostFileOptions = {}): Promise<void> {
  // Parents get the usual 0755: only the folder itself takes the (maybe tighter) mode.
  await mkdir(dirname(path), { recursive: true });
  await mkdir(path, { recursive: true });
  await chmod(path, options.mode ?? 0o755);
  if (options.owner) {
    const { uid, gid } = account(options.owner);
    await chown(path, uid, gid);
  }
}

/** Copies the machine's stock config folder into an empty host folder, once. */
export async function seedFrom(source: string, target: string, skip: (name: string) => boolean = () => false): Promise<void> {
  await mkdir(target, { recursive: true });
  if ((await readdir(target)).length > 0) return;
  for (const name of await readdir(source)) {
    if (skip(name)) continue;
    await cp(join(source, name), join(target, name), { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
  }
}
