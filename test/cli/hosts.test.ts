/**
 * `lifeboat hosts trust` end to end: the real CLI against a real Debian sshd on 127.0.0.1
 * whose host key changes (a reinstall). The changed key is refused and the refusal names
 * the one way forward; a fingerprint that is not the offered key pins nothing; the right one
 * pins it, and a host vouched for only by @cert-authority is refused, never accepted as new.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startSshd, type Sshd } from '../support/sshd.ts';
import { lifeboat, sshBlock } from '../support/cli.ts';


let sshd: Sshd;
let dir: string;

before(async () => {
  sshd = await startSshd();
  dir = await mkdtemp(join(tmpdir(), 'lifeboat-hosts-'));
});

after(async () => {
  await sshd?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function fleetWith(knownHosts: string): Promise<string> {
  const file = join(dir, `fleet-${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(file, `version: 1
name: one-machine
${sshBlock({ port: sshd.port, identityFile: sshd.identityFile, knownHosts, connectTimeoutMs: 3000 })}machines:
  - name: app-1
    address: 127.0.0.1
    roles: [app]
`);
  return file;
}

const reachable = async (fleet: string, extra: string[] = []) => {
  const r = await lifeboat(['status', '--fleet', fleet, '--json', ...extra]);
  return JSON.parse(r.stdout).machines[0] as { reachable: boolean; error?: string };
};

test('a changed key is refused until its fingerprint is pinned; a wrong fingerprint pins nothing', async () => {
  const knownHosts = join(dir, 'known_hosts');
  await copyFile(sshd.knownHostsFile, knownHosts);
  const fleet = await fleetWith(knownHosts);
  assert.equal((await reachable(fleet)).reachable, true);
  const oldFingerprint = sshd.hostKeyFingerprint();

  await sshd.restart({ newHostKey: true });
  const newFingerprint = sshd.hostKeyFingerprint();
  const refused = await reachable(fleet, ['--accept-new-host-keys']);
  assert.equal(refused.reachable, false);
  assert.ok(refused.error?.includes(`lifeboat hosts trust app-1 --fingerprint ${newFingerprint}`), refused.error);
  assert.doesNotMatch(refused.error ?? '', /connect again/);
  const before = await readFile(knownHosts, 'utf8');

  // The fingerprint read on the console is the old one: someone else answers. Nothing changes.
  const wrong = await lifeboat(['hosts', 'trust', 'app-1', '--fleet', fleet, '--fingerprint', oldFingerprint, '--json']);
  assert.equal(wrong.code, 1, wrong.stderr);
  assert.deepEqual(JSON.parse(wrong.stdout), { machine: 'app-1', address: `127.0.0.1:${sshd.port}`, pinned: false, offered: newFingerprint, expected: oldFingerprint });
  assert.equal(await readFile(knownHosts, 'utf8'), before);

  const bad = await lifeboat(['hosts', 'trust', 'app-1', '--fleet', fleet, '--fingerprint', 'not-a-fingerprint']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--fingerprint/);

  const pinned = await lifeboat(['hosts', 'trust', 'app-1', '--fleet', fleet, '--fingerprint', newFingerprint, '--json']);
  assert.equal(pinned.code, 0, pinned.stderr);
  const result = JSON.parse(pinned.stdout);
  assert.equal(result.pinned, true);
  assert.equal(result.fingerprint, newFingerprint);
  assert.equal(result.removedLines.length, 1, 'the old key for this host is gone');
  assert.equal(await readFile(`${knownHosts}.old`, 'utf8'), before, 'the previous file is kept');
  assert.equal((await stat(knownHosts)).mode & 0o777, 0o600);
  assert.ok(!(await readFile(knownHosts, 'utf8')).includes(before.trim().split(/\s+/)[2]!), 'the old key no longer vouches for the machine');
  assert.equal((await reachable(fleet)).reachable, true);
});

test('a host known only through @cert-authority is refused with a message, even with --accept-new-host-keys', async () => {
  const knownHosts = join(dir, 'known_hosts.ca');
  const ca = (await readFile(sshd.knownHostsFile, 'utf8')).trim().split(/\s+/);
  // Any key stands in for the CA's: lifeboat does not verify host certificates either way.
  const text = `@cert-authority [127.0.0.1]:${sshd.port} ${ca[1]} ${ca[2]}\n`;
  await writeFile(knownHosts, text);
  const fleet = await fleetWith(knownHosts);
  for (const extra of [[], ['--accept-new-host-keys']]) {
    const m = await reachable(fleet, extra);
    assert.equal(m.reachable, false);
    assert.match(m.error ?? '', /@cert-authority.*does not verify host certificates/);
    assert.ok(m.error?.includes('lifeboat hosts trust app-1 --fingerprint SHA256:'), m.error);
  }
  assert.equal(await readFile(knownHosts, 'utf8'), text, 'nothing was accepted as new');
});
