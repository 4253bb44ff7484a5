/**
 * go-upload stand-in: files kept on the LOCAL disk of the machine running it (that is why
 * the runbook restores go-upload last and why its folder must be synced to the backup).
 * A file is written to a temp name, fsynced, then renamed: an acknowledged upload is on disk.
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ServiceConfig } from '../config.ts';
import { check } from '../clients.ts';
import { HttpError } from '../http.ts';
import type { RunningService, StartService } from '../service.ts';

type UploadConfig = Extract<ServiceConfig, { service: 'go-upload' }>;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function checkName(name: string | null | undefined): string {
  if (!name || !NAME.test(name)) throw new HttpError(400, 'BAD_NAME', 'name: expected letters, digits, ".", "_" or "-" (at most 128)');
  return name;
}

/** Writes `data` as `dir/name` so that an acknowledged write is on disk (shared with the generic stand-in). */
export async function writeDurably(dir: string, name: string, data: Buffer): Promise<void> {
  const temp = join(dir, `.incoming-${randomBytes(6).toString('hex')}`);
  try {
    const handle = await open(temp, 'wx', 0o644);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, join(dir, name));
  } catch (error) {
    // A full disk (a lab fault) must not be left fuller by half-written temp files.
    await rm(temp, { force: true });
    throw error;
  }
  // The rename itself must survive a crash too: sync the folder.
  const folder = await open(dir, 'r');
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
}

export const startGoUpload: StartService<UploadConfig> = async (config) => {
  await mkdir(config.uploadDir, { recursive: true });
  const running: RunningService = {
    routes: [
      {
        method: 'POST', path: '/upload/files', handler: async (req) => {
          const name = checkName(req.query.get('name'));
          const data = await req.body(config.maxBytes);
          await writeDurably(config.uploadDir, name, data);
          const sha256 = createHash('sha256').update(data).digest('hex');
          return { status: 201, json: { name, sha256, bytes: data.length } };
        },
      },
      {
        method: 'GET', path: /^\/upload\/files\/([^/]+)$/, handler: async (req) => {
          const name = checkName(req.params[0]);
          try {
            return { body: await readFile(join(config.uploadDir, name)) };
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new HttpError(404, 'NO_FILE', `no file ${name}`);
            throw error;
          }
        },
      },
    ],
    health: async () => ({ uploadDir: await check(() => access(config.uploadDir, constants.W_OK)) }),
    close: async () => undefined,
  };
  return running;
};
