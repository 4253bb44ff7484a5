/**
 * What lifeboat does with the key a server offers: connect when known_hosts lists it, append
 * it only on the operator's explicit opt-in when the host is new, and refuse a changed key
 * always, with the message OpenSSH would give plus what to do about it: pin the new key by
 * its fingerprint (`lifeboat hosts trust`), never "delete the line and connect again", which
 * after a man-in-the-middle warning would trust whoever answers next.
 */
import {
  appendKnownHost,
  checkHostKey,
  fingerprintSha256,
  keyTypeOf,
  type KnownHostEntry,
} from './known-hosts.ts';
import { RemoteError } from './remote.ts';

export interface HostKeyPolicy {
  machine: string;
  host: string;
  port: number;
  knownHostsFile: string;
  /** Entries read from the file when the connection started. */
  entries: readonly KnownHostEntry[];
  /** Append unknown keys to known_hosts (explicit opt-in, like `StrictHostKeyChecking=accept-new`). */
  acceptNewHostKeys: boolean;
  /** Where "host key added" lines go. */
  notice: (line: string) => void;
}

/** Resolves with `undefined` to connect, or with the error that explains the refusal. */
export async function judgeHostKey(policy: HostKeyPolicy, key: Buffer): Promise<RemoteError | undefined> {
  const { machine, host, port, knownHostsFile: file } = policy;
  const address = `${host}:${port}`;
  const offered = `${keyTypeOf(key)} ${fingerprintSha256(key)}`;
  const verdict = checkHostKey(policy.entries, host, port, key);
  switch (verdict.status) {
    case 'known':
      return undefined;
    case 'unknown': {
      if (policy.acceptNewHostKeys) {
        const line = await appendKnownHost(file, host, port, key);
        policy.notice(`${machine}: added the host key of ${address} (${offered}) to ${file}: ${line}`);
        return undefined;
      }
      return new RemoteError(
        'host-key-unknown',
        machine,
        `the host key of ${address} is not in ${file}; the server offers ${offered}. ` +
          `Compare it with \`ssh-keygen -lf /etc/ssh/ssh_host_${shortType(key)}_key.pub\` on the machine's console, ` +
          `then pin it: \`lifeboat hosts trust ${machine} --fingerprint ${fingerprintSha256(key)}\` ` +
          `(or accept new hosts explicitly: acceptNewHostKeys / --accept-new-host-keys).`,
      );
    }
    case 'revoked':
      return new RemoteError(
        'host-key-changed',
        machine,
        `the host key offered by ${address} (${offered}) is marked @revoked in ${file} line ${verdict.entry.lineNumber}; refusing to connect.`,
      );
    case 'ca-only':
      return new RemoteError(
        'host-key-unknown',
        machine,
        `${file} line ${verdict.entry.lineNumber} vouches for ${address} through @cert-authority, but lifeboat does not verify ` +
          `host certificates; the server offers ${offered}. Pin that key after checking it on the machine's console: ` +
          `\`lifeboat hosts trust ${machine} --fingerprint ${fingerprintSha256(key)}\`.`,
      );
    case 'changed': {
      const lines = verdict.entries.map((e) => e.lineNumber);
      const expected = verdict.entries
        .map((e) => `  expected ${e.keyType} ${fingerprintSha256(e.key)} (${file} line ${e.lineNumber}: ${e.line})`)
        .join('\n');
      return new RemoteError(
        'host-key-changed',
        machine,
        `HOST KEY CHANGED for machine ${machine} at ${address}; refusing to connect.\n` +
          `${expected}\n  offered  ${offered}\n` +
          `This is a possible man-in-the-middle. If the machine was reinstalled, read its new key's fingerprint on its ` +
          `console (\`ssh-keygen -lf /etc/ssh/ssh_host_${shortType(key)}_key.pub\`) and, only if it is the one offered, pin it: ` +
          `\`lifeboat hosts trust ${machine} --fingerprint ${fingerprintSha256(key)}\` (it replaces line ${lines.join(', ')} of ${file}). ` +
          `lifeboat never replaces a known key by itself, not even with --accept-new-host-keys.`,
      );
    }
  }
}

/** `ed25519`, `ecdsa` or `rsa`, as in the host key file names of sshd. */
function shortType(key: Buffer): string {
  const type = keyTypeOf(key);
  if (type.startsWith('ecdsa')) return 'ecdsa';
  return type.replace(/^ssh-/, '');
}
