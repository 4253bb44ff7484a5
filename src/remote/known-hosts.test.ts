import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  appendKnownHost,
  checkHostKey,
  entryMatchesHost,
  fingerprintSha256,
  keyTypeOf,
  loadKnownHosts,
  parseKnownHosts,
  pinHostKey,
  preferredHostKeyAlgorithms,
  sameFingerprint,
} from './known-hosts.ts';

// Keys and fingerprints made with ssh-keygen (-t ed25519 / ecdsa, -lf, -H).
const K1 = 'AAAAC3NzaC1lZDI1NTE5AAAAIF64l3bdvRxMyeKBaFtzXQ37g/zw86U/bPPGdYL3htCe';
const K1_FP = 'SHA256:3nQe1yJbQAvAYWYRkFrzEbqFENTD722c8hxwFZzOHNY';
const K2 = 'AAAAC3NzaC1lZDI1NTE5AAAAIFzn7jjAdaJPorPIOXI+DD2a4yOnu7ptQA+dId8hi0ri';
const K2_FP = 'SHA256:QgQ33+XE3YXoDtdRRwbBkNln1v0Nid1wUp8R447obZI';
const K3 = 'AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBExh5xjib55DE2P4ZIPyX9AsY9eEE9YdZkkG5XC4uTFc8DkyqVoG5RHsXCzi0Ewb43aCu5ETJ4XXH+XMUgZ+xhs=';
const K3_FP = 'SHA256:v/OnftlP6lrD6/dV34ADa4qpw+khGFsu3FzOYPPxY5c';
/** `[198.51.100.7]:2222` hashed by `ssh-keygen -H`. */
const HASHED_7_2222 = '|1|5au2eO3iwtcK7svRpO9xYzgVMKQ=|jb7c7I/j7tId0MAAEq8vGW0jf1o=';
const key = (b64: string) => Buffer.from(b64, 'base64');

test('fingerprints match ssh-keygen -lf and key types are read from the blob', () => {
  assert.equal(fingerprintSha256(key(K1)), K1_FP);
  assert.equal(fingerprintSha256(key(K2)), K2_FP);
  assert.equal(fingerprintSha256(key(K3)), K3_FP);
  assert.equal(keyTypeOf(key(K1)), 'ssh-ed25519');
  assert.equal(keyTypeOf(key(K3)), 'ecdsa-sha2-nistp256');
  assert.equal(keyTypeOf(Buffer.from('xx')), '');
});

test('parse skips comments, blanks and malformed lines, keeping real line numbers', () => {
  const entries = parseKnownHosts(
    [
      '# comment',
      '',
      `db1,198.51.100.10 ssh-ed25519 ${K1}`,
      'garbage-line',
      `web ssh-rsa ${K1}`, // type does not match the blob
      `@revoked * ssh-ed25519 ${K2}`,
      `@cert-authority *.example.com ssh-ed25519 ${K2}`,
      `[198.51.100.11]:2222 ecdsa-sha2-nistp256 ${K3} comment here\r`,
    ].join('\n'),
  );
  assert.deepEqual(
    entries.map((e) => [e.lineNumber, e.marker ?? '', e.hosts, e.keyType]),
    [
      [3, '', 'db1,198.51.100.10', 'ssh-ed25519'],
      [6, 'revoked', '*', 'ssh-ed25519'],
      [7, 'cert-authority', '*.example.com', 'ssh-ed25519'],
      [8, '', '[198.51.100.11]:2222', 'ecdsa-sha2-nistp256'],
    ],
  );
  assert.equal(entries[3]?.line, `[198.51.100.11]:2222 ecdsa-sha2-nistp256 ${K3} comment here`);
});

test('host matching: plain lists, [host]:port, wildcards, negation, hashed', () => {
  assert.equal(entryMatchesHost({ hosts: 'db1,198.51.100.10' }, '198.51.100.10', 22), true);
  assert.equal(entryMatchesHost({ hosts: 'db1,198.51.100.10' }, '198.51.100.10', 2222), false);
  assert.equal(entryMatchesHost({ hosts: '[198.51.100.10]:2222' }, '198.51.100.10', 2222), true);
  assert.equal(entryMatchesHost({ hosts: '[198.51.100.10]:2222' }, '198.51.100.10', 22), false);
  assert.equal(entryMatchesHost({ hosts: '198.51.100.*' }, '198.51.100.99', 22), true);
  assert.equal(entryMatchesHost({ hosts: '198.51.100.?' }, '198.51.100.99', 22), false);
  assert.equal(entryMatchesHost({ hosts: '198.51.100.*,!198.51.100.5' }, '198.51.100.5', 22), false);
  assert.equal(entryMatchesHost({ hosts: 'DB1.Example.COM' }, 'db1.example.com', 22), true);
  assert.equal(entryMatchesHost({ hosts: HASHED_7_2222 }, '198.51.100.7', 2222), true);
  assert.equal(entryMatchesHost({ hosts: HASHED_7_2222 }, '198.51.100.7', 22), false);
  assert.equal(entryMatchesHost({ hosts: HASHED_7_2222 }, '198.51.100.8', 2222), false);
});

test('check: known, unknown, changed and revoked', () => {
  const entries = parseKnownHosts(
    [`${HASHED_7_2222} ssh-ed25519 ${K1}`, `198.51.100.20 ssh-ed25519 ${K1}`, `@revoked * ecdsa-sha2-nistp256 ${K3}`].join('\n'),
  );
  assert.equal(checkHostKey(entries, '198.51.100.7', 2222, key(K1)).status, 'known');
  assert.equal(checkHostKey(entries, '198.51.100.99', 22, key(K2)).status, 'unknown');
  const changed = checkHostKey(entries, '198.51.100.7', 2222, key(K2));
  assert.equal(changed.status, 'changed');
  assert.deepEqual(changed.status === 'changed' && changed.entries.map((e) => e.lineNumber), [1]);
  assert.equal(checkHostKey(entries, '198.51.100.20', 22, key(K3)).status, 'revoked');
  // A host known with another key type counts as changed too: strict means strict.
  const otherType = parseKnownHosts(`198.51.100.30 ecdsa-sha2-nistp256 ${K3}`);
  assert.equal(checkHostKey(otherType, '198.51.100.30', 22, key(K1)).status, 'changed');
});

test('known key types are asked for first', () => {
  const entries = parseKnownHosts(`198.51.100.30 ecdsa-sha2-nistp256 ${K3}\n198.51.100.31 ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC7`);
  assert.equal(preferredHostKeyAlgorithms(entries, '198.51.100.30', 22)[0], 'ecdsa-sha2-nistp256');
  assert.equal(preferredHostKeyAlgorithms(entries, '198.51.100.99', 22)[0], 'ssh-ed25519');
  assert.equal(preferredHostKeyAlgorithms(entries, '198.51.100.30', 22).length, 7);
});

test('append creates the file 0600 and keeps existing lines byte for byte', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lifeboat-kh-'));
  try {
    const file = join(dir, 'sub/known_hosts');
    assert.deepEqual(await loadKnownHosts(file), []);
    const line = await appendKnownHost(file, '198.51.100.7', 2222, key(K1));
    assert.equal(line, `[198.51.100.7]:2222 ssh-ed25519 ${K1}`);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    await writeFile(file, `${line}\n# no newline at the end`);
    await appendKnownHost(file, '198.51.100.8', 22, key(K2));
    assert.equal(await readFile(file, 'utf8'), `${line}\n# no newline at the end\n198.51.100.8 ssh-ed25519 ${K2}\n`);
    const entries = await loadKnownHosts(file);
    assert.equal(checkHostKey(entries, '198.51.100.8', 22, key(K2)).status, 'known');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a host named only by a @cert-authority line is its own verdict, never "unknown" (which an opt-in would accept)', () => {
  const entries = parseKnownHosts(`@cert-authority *.example.com,198.51.100.40 ssh-ed25519 ${K2}`);
  const v = checkHostKey(entries, '198.51.100.40', 22, key(K1));
  assert.equal(v.status, 'ca-only');
  assert.equal(checkHostKey(entries, '198.51.100.41', 22, key(K1)).status, 'unknown');
});

test('a fingerprint matches as typed, with or without SHA256:, and only exactly', () => {
  assert.equal(sameFingerprint(K1_FP, key(K1)), true);
  assert.equal(sameFingerprint(K1_FP.slice('SHA256:'.length), key(K1)), true);
  assert.equal(sameFingerprint(` ${K1_FP}= `, key(K1)), true);
  assert.equal(sameFingerprint(K1_FP.toLowerCase(), key(K1)), false, 'base64 is case-sensitive');
  assert.equal(sameFingerprint(K2_FP, key(K1)), false);
  assert.equal(sameFingerprint('', key(K1)), false);
});

test('pinning removes the lines that name exactly this host with another key, keeps the rest and the old file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lifeboat-pin-'));
  try {
    const file = join(dir, 'known_hosts');
    const before = [
      '# operator comment',
      `${HASHED_7_2222} ssh-ed25519 ${K1}`,
      `198.51.100.20 ssh-ed25519 ${K1}`,
      `198.51.100.* ecdsa-sha2-nistp256 ${K3}`,
      `[198.51.100.7]:2222 ecdsa-sha2-nistp256 ${K3}`,
      '',
    ].join('\n');
    await writeFile(file, before);
    const pin = await pinHostKey(file, '198.51.100.7', 2222, key(K2));
    assert.deepEqual(pin.removed.map((e) => e.lineNumber), [2, 5], 'the hashed line and the explicit one');
    assert.deepEqual(pin.wildcards, [], 'a wildcard on port 22 does not match port 2222');
    const after = await readFile(file, 'utf8');
    assert.equal(after, ['# operator comment', `198.51.100.20 ssh-ed25519 ${K1}`, `198.51.100.* ecdsa-sha2-nistp256 ${K3}`, '', ].join('\n') + `[198.51.100.7]:2222 ssh-ed25519 ${K2}\n`);
    assert.equal(await readFile(`${file}.old`, 'utf8'), before);
    assert.equal(checkHostKey(parseKnownHosts(after), '198.51.100.7', 2222, key(K2)).status, 'known');
    assert.equal(checkHostKey(parseKnownHosts(after), '198.51.100.7', 2222, key(K1)).status, 'changed', 'the old key no longer passes');
    // A wildcard that also names the host is left, and said so.
    const wild = await pinHostKey(file, '198.51.100.21', 22, key(K2));
    assert.deepEqual(wild.wildcards.map((e) => e.hosts), ['198.51.100.*']);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
