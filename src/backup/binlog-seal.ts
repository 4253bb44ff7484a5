/**
 * The operator's side of the binary log sealed on off-site stores (binlogs.ts `shipScript`):
 * the key pair the stores seal for, and the opening of a sealed file back into the primary's
 * own binary log file.
 *
 * The key pair is derived from `backups.encryptionKey` (scrypt, a fixed salt, an EC P-256
 * scalar): the one secret the operator already keeps for the off-site backup copies opens
 * the log too, and a total loss needs nothing else. Only its public half — a certificate,
 * as openssl's CMS wants one — goes to the stores. openssl does the CMS (Node has no CMS).
 */
import { spawn } from 'node:child_process';
import { createECDH, createPrivateKey, createPublicKey, scryptSync, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SALT = 'lifeboat binlog seal v1';
const P256_ORDER = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');
/** A record header: `LBREC <offset> <length>\n`, never longer than this. */
const HEADER_MAX = 64;

export class SealedLogError extends Error {
  override name = 'SealedLogError';
}

const b64url = (b: Buffer) => b.toString('base64url');

/** The EC P-256 private key `secret` stands for (the same every time). */
export function sealKey(secret: string): KeyObject {
  for (let round = 0; round < 16; round++) {
    const d = scryptSync(secret, `${SALT} ${round}`, 32);
    const n = BigInt(`0x${d.toString('hex')}`);
    // Outside [1, order): another round (probability about 2^-32).
    if (n === 0n || n >= P256_ORDER) continue;
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(d);
    const pub = ecdh.getPublicKey();
    return createPrivateKey({ key: { kty: 'EC', crv: 'P-256', d: b64url(d), x: b64url(pub.subarray(1, 33)), y: b64url(pub.subarray(33)) }, format: 'jwk' });
  }
  throw new SealedLogError('no P-256 key could be derived from backups.encryptionKey');
}

function publicDer(key: KeyObject): Buffer {
  return createPublicKey(key).export({ type: 'spki', format: 'der' }) as Buffer;
}

/** Whether `certPem` holds the public half of the key `secret` stands for. */
export function certificateMatches(certPem: string, secret: string): boolean {
  try {
    return new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' }).equals(publicDer(sealKey(secret)));
  } catch {
    return false;
  }
}

interface Ran {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

function openssl(args: string[], input?: Buffer): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn('openssl', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => { err += c.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: err }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? Buffer.alloc(0));
  });
}

/** A private folder holding the derived key as PEM for openssl, removed after `use`. */
async function withKeyFile<T>(secret: string, use: (keyFile: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'lifeboat-seal-'));
  try {
    const keyFile = join(dir, 'key.pem');
    await writeFile(keyFile, sealKey(secret).export({ type: 'pkcs8', format: 'pem' }) as string, { mode: 0o600 });
    return await use(keyFile);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A certificate for the key's public half, for the stores' `openssl cms -encrypt -recip`. */
export async function sealCertificate(secret: string): Promise<string> {
  return withKeyFile(secret, async (keyFile) => {
    const r = await openssl(['req', '-x509', '-new', '-key', keyFile, '-subj', '/CN=lifeboat binlog seal', '-days', '36500']);
    if (r.code !== 0) throw new SealedLogError(`openssl could not make the sealing certificate: ${r.stderr.trim().split('\n').slice(-2).join(' ')}`);
    return r.stdout.toString();
  });
}

export interface Opened {
  /** Clear bytes written: the primary's file from its start. */
  bytes: number;
  records: number;
  /** Why the opened file ends before the sealed one does (a gap, a damaged record); absent when whole. */
  stopped?: string;
  /** The sealed file ends in a record cut short (the store stopped while writing it). */
  cutShort: boolean;
}

/**
 * Opens `sealedPath` (the sealed copy of binlog file `name`) into `clearPath`. Records are
 * taken in order; one that repeats bytes already opened (a round sealed again after a crash)
 * adds only what is new. A record that starts past what was opened is a gap: the file ends
 * there and says so. A record that does not open with this key is named; the first one not
 * opening means another key (or a damaged file), an error.
 */
export async function openSealedFile(sealedPath: string, name: string, clearPath: string, secret: string): Promise<Opened> {
  return withKeyFile(secret, async (keyFile) => {
    const input = await open(sealedPath, 'r');
    const output = await open(clearPath, 'w', 0o600);
    let at = 0;
    let have = 0;
    let records = 0;
    try {
      const size = (await input.stat()).size;
      const head = Buffer.alloc(HEADER_MAX);
      while (at < size) {
        const { bytesRead } = await input.read(head, 0, HEADER_MAX, at);
        const nl = head.subarray(0, bytesRead).indexOf(0x0a);
        const m = nl > 0 ? /^LBREC (\d+) (\d+)$/.exec(head.subarray(0, nl).toString('latin1')) : null;
        if (!m) {
          if (nl < 0 && at + bytesRead >= size) return { bytes: have, records, cutShort: true };
          throw new SealedLogError(`${name}: byte ${at} of its sealed copy is not a record header: not a sealed binary log, or damaged`);
        }
        const length = Number(m[2]);
        const start = at + nl + 1;
        if (start + length > size) return { bytes: have, records, cutShort: true };
        const der = Buffer.alloc(length);
        await input.read(der, 0, length, start);
        at = start + length;
        const r = await openssl(['cms', '-decrypt', '-binary', '-inform', 'DER', '-inkey', keyFile], der);
        if (r.code !== 0) {
          if (records === 0) throw new SealedLogError(`${name}: its sealed copy does not open with backups.encryptionKey (sealed for another key, or damaged): ${r.stderr.trim().split('\n')[0] ?? ''}`);
          return { bytes: have, records, cutShort: false, stopped: `the record at byte ${at - length} of ${name}'s sealed copy does not open (damaged): nothing after it is used` };
        }
        const clear = r.stdout;
        const pnl = clear.indexOf(0x0a);
        const p = pnl > 0 ? /^LBBINLOG (\S+) (\d+) (\d+)$/.exec(clear.subarray(0, pnl).toString('latin1')) : null;
        // The header inside the envelope is authenticated: a record moved here from another file or place shows.
        if (!p || p[1] !== name || Number(p[2]) !== Number(m[1]) || Number(p[3]) !== clear.length - pnl - 1) {
          return { bytes: have, records, cutShort: false, stopped: `the record at byte ${at - length} of ${name}'s sealed copy is not the one its place says (moved or forged): nothing after it is used` };
        }
        const offset = Number(p[2]);
        const data = clear.subarray(pnl + 1);
        if (offset > have) return { bytes: have, records, cutShort: false, stopped: `${name}'s sealed copy skips bytes ${have}–${offset - 1}: a gap, nothing after it is used` };
        const fresh = data.subarray(have - offset);
        if (fresh.length > 0) {
          await output.write(fresh, 0, fresh.length, have);
          have += fresh.length;
        }
        records++;
      }
      return { bytes: have, records, cutShort: false };
    } finally {
      await input.close();
      await output.close();
    }
  });
}
