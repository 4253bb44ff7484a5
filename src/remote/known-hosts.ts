/**
 * Strict host-key checking against an OpenSSH known_hosts file. lifeboat only ever talks to
 * machines whose key it already knows (or that the operator explicitly accepts), because a
 * recovery tool that types database passwords into a man-in-the-middle makes things worse.
 *
 * Supported: plain host lists (`a,b`), `[host]:port`, `*`/`?` wildcards, `!negation`, hashed
 * `|1|salt|hash` entries and the `@revoked` marker. lifeboat does not verify host
 * certificates: a host that known_hosts vouches for only through a `@cert-authority` line is
 * refused with a message saying so (never taken as unknown, so never accepted as new). A
 * changed key is replaced only by `pinHostKey`, with a fingerprint the operator typed.
 */
import { createHash, createHmac } from 'node:crypto';
import { appendFile, copyFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface KnownHostEntry {
  /** 1-based line number in the file, as the operator sees it in an editor. */
  lineNumber: number;
  line: string;
  marker?: 'revoked' | 'cert-authority';
  /** The host field, e.g. `example.com,198.51.100.10` or `|1|salt|hash`. */
  hosts: string;
  keyType: string;
  /** The key blob (SSH wire format), which is what the server offers during the handshake. */
  key: Buffer;
}

export type HostKeyVerdict =
  | { status: 'known'; entry: KnownHostEntry }
  | { status: 'unknown' }
  /** The host is listed but none of its keys is the offered one. */
  | { status: 'changed'; entries: KnownHostEntry[] }
  | { status: 'revoked'; entry: KnownHostEntry }
  /** No key of its own, but a `@cert-authority` line names the host: certificates are not checked. */
  | { status: 'ca-only'; entry: KnownHostEntry };

/** Parses a known_hosts file; malformed lines are skipped the way OpenSSH skips them. */
export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.replace(/\r$/, '');
    const trimmed = line.trim();
    if (!trimmed || trimmed.startsWith('#')) return;
    const fields = trimmed.split(/\s+/);
    let marker: KnownHostEntry['marker'];
    if (fields[0] === '@revoked' || fields[0] === '@cert-authority') {
      marker = fields[0] === '@revoked' ? 'revoked' : 'cert-authority';
      fields.shift();
    }
    const [hosts, keyType, keyBase64] = fields;
    if (!hosts || !keyType || !keyBase64) return;
    const key = Buffer.from(keyBase64, 'base64');
    if (key.length === 0 || keyTypeOf(key) !== keyType) return;
    entries.push({ lineNumber: index + 1, line, ...(marker ? { marker } : {}), hosts, keyType, key });
  });
  return entries;
}

/** The name OpenSSH looks up: `host` on port 22, `[host]:port` otherwise. */
export function hostLookupName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** Whether the host field of an entry names `host` on `port`. */
export function entryMatchesHost(entry: Pick<KnownHostEntry, 'hosts'>, host: string, port: number): boolean {
  const name = hostLookupName(host, port);
  if (entry.hosts.startsWith('|1|')) return hashedMatches(entry.hosts, name);
  let matched = false;
  for (const pattern of entry.hosts.split(',')) {
    const negated = pattern.startsWith('!');
    const glob = negated ? pattern.slice(1) : pattern;
    if (!globMatches(glob.toLowerCase(), name.toLowerCase())) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

function hashedMatches(field: string, name: string): boolean {
  const [, , salt, hash] = field.split('|');
  if (!salt || !hash) return false;
  const digest = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
  return digest === hash;
}

function globMatches(glob: string, name: string): boolean {
  if (!/[*?]/.test(glob)) return glob === name;
  const source = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`).test(name);
}

/** Compares the offered key with every entry for the host. */
export function checkHostKey(entries: readonly KnownHostEntry[], host: string, port: number, key: Buffer): HostKeyVerdict {
  const forHost = entries.filter((e) => e.marker !== 'cert-authority' && entryMatchesHost(e, host, port));
  const revoked = entries.find((e) => e.marker === 'revoked' && e.key.equals(key));
  if (revoked) return { status: 'revoked', entry: revoked };
  const plain = forHost.filter((e) => e.marker === undefined);
  const same = plain.find((e) => e.key.equals(key));
  if (same) return { status: 'known', entry: same };
  if (plain.length > 0) return { status: 'changed', entries: plain };
  const ca = entries.find((e) => e.marker === 'cert-authority' && entryMatchesHost(e, host, port));
  if (ca) return { status: 'ca-only', entry: ca };
  return { status: 'unknown' };
}

/**
 * Host-key algorithms to ask for, the known ones first, so a machine with several host keys
 * offers the one we can check instead of a new type we would have to call "changed".
 */
export function preferredHostKeyAlgorithms(entries: readonly KnownHostEntry[], host: string, port: number): string[] {
  const all = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
  const known = new Set<string>();
  for (const e of entries) {
    if (e.marker === undefined && entryMatchesHost(e, host, port)) {
      for (const algorithm of algorithmsForKeyType(e.keyType)) known.add(algorithm);
    }
  }
  return [...all.filter((a) => known.has(a)), ...all.filter((a) => !known.has(a))];
}

function algorithmsForKeyType(keyType: string): string[] {
  return keyType === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [keyType];
}

/** The key type written at the start of an SSH key blob, e.g. `ssh-ed25519`. */
export function keyTypeOf(key: Buffer): string {
  if (key.length < 4) return '';
  const length = key.readUInt32BE(0);
  if (length > 64 || 4 + length > key.length) return '';
  return key.subarray(4, 4 + length).toString('latin1');
}

/** `SHA256:…` as `ssh-keygen -lf` and OpenSSH's own warnings print it. */
export function fingerprintSha256(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** A known_hosts file's text; a missing file simply knows no hosts (any other failure is one). */
async function knownHostsText(file: string): Promise<string> {
  return readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
}

export async function loadKnownHosts(file: string): Promise<KnownHostEntry[]> {
  return parseKnownHosts(await knownHostsText(file));
}

/** The line that records `key` for `host:port`. */
export function knownHostsLine(host: string, port: number, key: Buffer): string {
  return `${hostLookupName(host, port)} ${keyTypeOf(key)} ${key.toString('base64')}`;
}

/**
 * Appends the key for `host:port` (creating the file 0600 and its folder 0700 if needed)
 * and returns the line written. Appending, like OpenSSH does, keeps the operator's other
 * lines and comments byte for byte.
 */
export async function appendKnownHost(file: string, host: string, port: number, key: Buffer): Promise<string> {
  const line = knownHostsLine(host, port, key);
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const existing = await knownHostsText(file);
  // Never glue our line onto an operator's last line that lacks its newline.
  const prefix = existing.length > 0 && !existing.endsWith('\n') ? '\n' : '';
  await appendFile(file, `${prefix}${line}\n`, { mode: 0o600 });
  return line;
}

/** `SHA256:abc…` or `abc…` as typed; compared exactly (base64 is case-sensitive). */
export function sameFingerprint(typed: string, key: Buffer): boolean {
  const want = typed.trim().replace(/^SHA256:/i, '').replace(/=+$/, '');
  return want.length > 0 && `SHA256:${want}` === fingerprintSha256(key);
}

export interface PinResult {
  line: string;
  /** Lines that named this host with another key, now gone (kept in `<file>.old`). */
  removed: KnownHostEntry[];
  /** Wildcard lines that also match the host with another key: left as they are, and said so. */
  wildcards: KnownHostEntry[];
}

/**
 * Makes `key` the one key known for `host:port`: lines naming exactly this host (plainly or
 * hashed) with another key are removed, the new line appended. The previous file is kept
 * as `<file>.old` (as `ssh-keygen -R` does) and the new one renamed into place, 0600.
 */
export async function pinHostKey(file: string, host: string, port: number, key: Buffer): Promise<PinResult> {
  const text = await knownHostsText(file);
  const entries = parseKnownHosts(text);
  const names = hostLookupName(host, port);
  const stale = entries.filter((e) => e.marker === undefined && !e.key.equals(key) && entryMatchesHost(e, host, port));
  const explicit = (e: KnownHostEntry) => e.hosts.startsWith('|1|') || e.hosts.split(',').some((h) => h === names);
  const removed = stale.filter(explicit);
  const wildcards = stale.filter((e) => !explicit(e));
  const gone = new Set(removed.map((e) => e.lineNumber));
  const kept = text.split('\n').filter((_, i) => !gone.has(i + 1)).join('\n');
  const alreadyKnown = entries.some((e) => e.marker === undefined && e.key.equals(key) && entryMatchesHost(e, host, port));
  const line = knownHostsLine(host, port, key);
  const next = alreadyKnown ? kept : `${kept}${kept.length > 0 && !kept.endsWith('\n') ? '\n' : ''}${line}\n`;
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  if (text.length > 0) await copyFile(file, `${file}.old`);
  const temp = `${file}.lifeboat-${process.pid}.tmp`;
  await writeFile(temp, next, { mode: 0o600 });
  await rename(temp, file);
  return { line, removed, wildcards };
}
