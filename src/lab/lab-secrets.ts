/**
 * The lab's own secrets — database passwords, the DNS update key, the SSH client key —
 * generated once per lab into `shared/secrets` and `shared/ssh` (mode 0600), and referred to
 * from the derived fleet file as `file:` references, never copied into it.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Fleet } from '../fleet/schema.ts';
import type { LabPaths } from './paths.ts';
import type { LabSecrets } from './servers/context.ts';
import { ensureKeyPair } from './servers/sshd.ts';

export const SECRET_FILES = {
  dbAdminPassword: 'db-admin-password',
  dbAppPassword: 'db-app-password',
  dbReplicationPassword: 'db-repl-password',
  redisPassword: 'redis-password',
  dnsUpdateKey: 'dns-update-secret',
  backupKey: 'backup-key',
  probeToken: 'probe-token',
} as const;

async function ensureSecret(dir: string, name: string, make: () => string): Promise<string> {
  const file = join(dir, name);
  if (!existsSync(file)) await writeFile(file, make() + '\n', { mode: 0o600, flag: 'wx' }).catch(() => undefined);
  return (await readFile(file, 'utf8')).trim();
}

// Letters and digits only: these land in DSNs, redis.conf and shell commands.
const password = () => randomBytes(18).toString('base64url').replace(/[-_]/g, 'x');

export async function ensureLabSecrets(paths: LabPaths, fleet: Fleet): Promise<LabSecrets> {
  await mkdir(paths.secrets, { recursive: true, mode: 0o700 });
  await mkdir(paths.ssh, { recursive: true, mode: 0o700 });
  await ensureKeyPair(join(paths.ssh, 'id_ed25519'), `lifeboat-lab@${paths.root}`);
  await ensureSecret(paths.secrets, SECRET_FILES.backupKey, () => randomBytes(32).toString('hex'));
  await ensureSecret(paths.secrets, SECRET_FILES.probeToken, () => randomBytes(32).toString('hex'));
  const secrets: LabSecrets = {
    dbAdminPassword: await ensureSecret(paths.secrets, SECRET_FILES.dbAdminPassword, password),
    dbAppPassword: await ensureSecret(paths.secrets, SECRET_FILES.dbAppPassword, password),
    dbReplicationPassword: await ensureSecret(paths.secrets, SECRET_FILES.dbReplicationPassword, password),
    dnsUpdateKey: await ensureSecret(paths.secrets, SECRET_FILES.dnsUpdateKey, () => randomBytes(32).toString('base64')),
  };
  if (fleet.redis?.password) secrets.redisPassword = await ensureSecret(paths.secrets, SECRET_FILES.redisPassword, password);
  return secrets;
}

export function secretRefFor(paths: LabPaths, key: keyof typeof SECRET_FILES): string {
  return `file:${join(paths.secrets, SECRET_FILES[key])}`;
}
