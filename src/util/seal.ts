/**
 * Authenticated, streamed encryption of the files lifeboat sends to off-site stores (backup
 * copies, installation archives), done on the operator's machine so neither the key nor the
 * clear file ever sits on the off-site machine, and never more than one chunk in memory.
 *
 * AES-256-GCM in 64 KiB chunks (the STREAM construction): the key is derived from the
 * fleet's `backups.encryptionKey` with scrypt and a salt per file; each chunk's nonce is a
 * random per-file prefix, the chunk's number and a last-chunk flag, so a chunk cannot be
 * moved, dropped, repeated or the file cut short at a chunk boundary without the open
 * failing. What was opened is written to a temp file and renamed into place only once every
 * chunk, the last one included, authenticated.
 *
 * Layout: "LBSEAL1\n" | salt (16) | nonce prefix (7) | chunks, each ciphertext (≤ 64 KiB) | tag (16).
 * `openFile` also opens the whole-file "LBENC1" format of earlier versions.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DigestingStream } from './file-hash.ts';

const MAGIC = Buffer.from('LBSEAL1\n');
const SALT = 16;
const PREFIX = 7;
const TAG = 16;
export const SEAL_CHUNK = 64 * 1024;
const LEGACY_MAGIC = Buffer.from('LBENC1');
const LEGACY_IV = 12;

export class SealError extends Error {
  override name = 'SealError';
  constructor(readonly code: 'not-sealed' | 'wrong-key-or-damaged', message: string) {
    super(message);
  }
}

const deriveKey = (secret: string, salt: Buffer): Buffer => scryptSync(secret, salt, 32);

function nonce(prefix: Buffer, index: number, last: boolean): Buffer {
  const n = Buffer.alloc(12);
  prefix.copy(n, 0);
  n.writeUInt32BE(index, PREFIX);
  n[11] = last ? 1 : 0;
  return n;
}

class Sealer extends Transform {
  private pending: Buffer = Buffer.alloc(0);
  private index = 0;
  private readonly key: Buffer;
  private readonly prefix = randomBytes(PREFIX);

  constructor(secret: string) {
    super();
    const salt = randomBytes(SALT);
    this.key = deriveKey(secret, salt);
    this.push(Buffer.concat([MAGIC, salt, this.prefix]));
  }

  private seal(clear: Buffer, last: boolean): void {
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce(this.prefix, this.index++, last));
    this.push(Buffer.concat([cipher.update(clear), cipher.final(), cipher.getAuthTag()]));
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    // Keep at least one byte back: the last chunk must be sealed as the last.
    while (this.pending.length > SEAL_CHUNK) {
      this.seal(this.pending.subarray(0, SEAL_CHUNK), false);
      this.pending = this.pending.subarray(SEAL_CHUNK);
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    this.seal(this.pending, true);
    done();
  }
}

class Opener extends Transform {
  private pending: Buffer = Buffer.alloc(0);
  private index = 0;
  private key: Buffer | undefined;
  private prefix: Buffer | undefined;

  constructor(private readonly secret: string) {
    super();
  }

  private open(sealed: Buffer, last: boolean): Buffer {
    const decipher = createDecipheriv('aes-256-gcm', this.key!, nonce(this.prefix!, this.index++, last));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG));
    try {
      return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG)), decipher.final()]);
    } catch {
      throw new SealError('wrong-key-or-damaged', 'the file does not open with this key (wrong key, or it was damaged or altered)');
    }
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
      if (!this.key) {
        if (this.pending.length < MAGIC.length + SALT + PREFIX) return done();
        if (!this.pending.subarray(0, MAGIC.length).equals(MAGIC)) throw new SealError('not-sealed', 'not a lifeboat-sealed file');
        this.key = deriveKey(this.secret, this.pending.subarray(MAGIC.length, MAGIC.length + SALT));
        this.prefix = Buffer.from(this.pending.subarray(MAGIC.length + SALT, MAGIC.length + SALT + PREFIX));
        this.pending = this.pending.subarray(MAGIC.length + SALT + PREFIX);
      }
      // A full chunk followed by more bytes is not the last one.
      while (this.pending.length > SEAL_CHUNK + TAG) {
        this.push(this.open(this.pending.subarray(0, SEAL_CHUNK + TAG), false));
        this.pending = this.pending.subarray(SEAL_CHUNK + TAG);
      }
      done();
    } catch (error) {
      done(error as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    try {
      if (!this.key) throw new SealError('not-sealed', 'not a lifeboat-sealed file (too short)');
      if (this.pending.length < TAG) throw new SealError('wrong-key-or-damaged', 'the file ends in the middle of a chunk (cut short)');
      this.push(this.open(this.pending, true));
      done();
    } catch (error) {
      done(error as Error);
    }
  }
}

/** What was written: its size and sha256, counted on the way (no second read of the file). */
export interface Written {
  bytes: number;
  sha256: string;
}

/** `to` appears only complete: written beside it, renamed into place, 0600. */
async function streamInto(from: string, to: string, transform: Transform): Promise<Written> {
  const temp = `${to}.lifeboat-${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  const digest = new DigestingStream();
  try {
    await pipeline(createReadStream(from), transform, digest, createWriteStream(temp, { mode: 0o600, flags: 'wx' }));
    await rename(temp, to);
    return digest.digest();
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

export function sealFile(from: string, to: string, secret: string): Promise<Written> {
  return streamInto(from, to, new Sealer(secret));
}

/**
 * Opens a sealed file, or a whole-file "LBENC1" one from an earlier version; nothing is
 * written unless every byte authenticates. Resolves with the opened file's size and sha256.
 */
export async function openFile(from: string, to: string, secret: string): Promise<Written> {
  const head = Buffer.alloc(MAGIC.length);
  const handle = await open(from, 'r');
  try {
    await handle.read(head, 0, head.length, 0);
  } finally {
    await handle.close();
  }
  if (head.subarray(0, LEGACY_MAGIC.length).equals(LEGACY_MAGIC)) return openLegacy(from, to, secret);
  return streamInto(from, to, new Opener(secret));
}

async function openLegacy(from: string, to: string, secret: string): Promise<Written> {
  const sealed = await readFile(from);
  if (sealed.length < LEGACY_MAGIC.length + SALT + LEGACY_IV + TAG) throw new SealError('not-sealed', 'not a lifeboat-sealed file');
  let at = LEGACY_MAGIC.length;
  const salt = sealed.subarray(at, (at += SALT));
  const iv = sealed.subarray(at, (at += LEGACY_IV));
  const decipher = createDecipheriv('aes-256-gcm', deriveKey(secret, salt), iv);
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG));
  let clear: Buffer;
  try {
    clear = Buffer.concat([decipher.update(sealed.subarray(at, sealed.length - TAG)), decipher.final()]);
  } catch {
    throw new SealError('wrong-key-or-damaged', 'the file does not open with this key (wrong key, or it was damaged or altered)');
  }
  const temp = `${to}.lifeboat-${process.pid}.tmp`;
  await writeFile(temp, clear, { mode: 0o600 });
  await rename(temp, to);
  return { bytes: clear.length, sha256: createHash('sha256').update(clear).digest('hex') };
}

/** The manifest's authentication: HMAC-SHA256 under a key of its own derived from the secret. */
export function manifestMac(text: string, secret: string): string {
  return createHmac('sha256', deriveKey(secret, Buffer.from('lifeboat manifest mac v1'))).update(text).digest('hex');
}

export function manifestMacMatches(text: string, mac: string, secret: string): boolean {
  const want = Buffer.from(manifestMac(text, secret), 'hex');
  const got = Buffer.from(mac.trim(), 'hex');
  return got.length === want.length && timingSafeEqual(got, want);
}
