/**
 * Encryption of the archives shipped to off-site stores, done on the operator's machine so
 * neither the key nor the clear archive ever sits on the off-site machine. AES-256-GCM;
 * the key is derived from the fleet's `backups.encryptionKey` secret with scrypt and a salt
 * per file. Installation archives are tens of MB, so whole files in memory are fine.
 * File layout: "LBENC1" | salt (16) | iv (12) | ciphertext | tag (16).
 */
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';

const MAGIC = Buffer.from('LBENC1');
const SALT = 16;
const IV = 12;
const TAG = 16;

export class ArchiveCryptError extends Error {
  override name = 'ArchiveCryptError';
  constructor(readonly code: 'not-encrypted' | 'wrong-key-or-damaged', message: string) {
    super(message);
  }
}

function key(secret: string, salt: Buffer): Buffer {
  return scryptSync(secret, salt, 32);
}

export function encryptBuffer(clear: Buffer, secret: string): Buffer {
  const salt = randomBytes(SALT);
  const iv = randomBytes(IV);
  const cipher = createCipheriv('aes-256-gcm', key(secret, salt), iv);
  const body = Buffer.concat([cipher.update(clear), cipher.final()]);
  return Buffer.concat([MAGIC, salt, iv, body, cipher.getAuthTag()]);
}

export function decryptBuffer(sealed: Buffer, secret: string): Buffer {
  if (sealed.length < MAGIC.length + SALT + IV + TAG || !sealed.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new ArchiveCryptError('not-encrypted', 'not a lifeboat-encrypted archive');
  }
  let at = MAGIC.length;
  const salt = sealed.subarray(at, (at += SALT));
  const iv = sealed.subarray(at, (at += IV));
  const body = sealed.subarray(at, sealed.length - TAG);
  const decipher = createDecipheriv('aes-256-gcm', key(secret, salt), iv);
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG));
  try {
    return Buffer.concat([decipher.update(body), decipher.final()]);
  } catch {
    throw new ArchiveCryptError('wrong-key-or-damaged', 'the archive does not decrypt with this key (wrong key, or the file is damaged)');
  }
}

export async function encryptFile(from: string, to: string, secret: string): Promise<void> {
  await writeFile(to, encryptBuffer(await readFile(from), secret), { mode: 0o600 });
}

export async function decryptFile(from: string, to: string, secret: string): Promise<void> {
  await writeFile(to, decryptBuffer(await readFile(from), secret), { mode: 0o600 });
}
