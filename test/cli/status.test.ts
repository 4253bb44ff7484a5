/**
 * `lifeboat status` end to end: the real CLI, over the real SSH transport, against a real
 * Debian sshd on 127.0.0.1 described by a one-machine fleet file.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startSshd, type Sshd } from '../support/sshd.ts';
import { lifeboat, sshBlock } from '../support/cli.ts';


let sshd: Sshd;
let dir: string;
let server: Server;
let healthPort: number;

before(async () => {
  sshd = await startSshd();
  dir = await mkdtemp(join(tmpdir(), 'lifeboat-status-'));
  server = createServer((socket) => socket.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  healthPort = (server.address() as { port: number }).port;
});

after(async () => {
  await sshd?.stop();
  server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function writeFleet(name: string, knownHosts: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(
    file,
    `version: 1
name: one-machine
${sshBlock({ port: sshd.port, identityFile: sshd.identityFile, knownHosts })}machines:
  - name: app-1
    address: 127.0.0.1
    roles: [app]
services:
  web:
    roles: [app]
    dir: ${dir}
    driver: { type: command, start: "touch ${dir}/web.run", stop: "rm -f ${dir}/web.run", status: "test -f ${dir}/web.run || exit 3" }
    health: { type: tcp, port: ${healthPort} }
`,
  );
  return file;
}

test('status reports a reachable machine and its running, healthy service', async () => {
  await writeFile(join(dir, 'web.run'), '');
  const fleet = await writeFleet('fleet.yaml', sshd.knownHostsFile);
  const { code, stdout, stderr } = await lifeboat(['status', '--fleet', fleet, '--json']);
  assert.equal(code, 0, stderr);
  const status = JSON.parse(stdout);
  assert.equal(status.healthy, true);
  const [machine] = status.machines;
  assert.equal(machine.name, 'app-1');
  assert.equal(machine.reachable, true);
  assert.deepEqual(
    machine.services.map((s: { name: string; state: string; healthy: boolean }) => [s.name, s.state, s.healthy]),
    [['web', 'running', true]],
  );
  const table = await lifeboat(['status', '--fleet', fleet]);
  assert.equal(table.code, 0);
  assert.match(table.stdout, /^ok +app-1 +127\.0\.0\.1 .*ssh \d+ ms$/m);
  assert.match(table.stdout, /ok +web +running/);
});

test('a stopped service makes status exit 1 and says which', async () => {
  await rm(join(dir, 'web.run'), { force: true });
  const fleet = await writeFleet('fleet.yaml', sshd.knownHostsFile);
  const { code, stdout } = await lifeboat(['status', '--fleet', fleet, '--json']);
  assert.equal(code, 1);
  const status = JSON.parse(stdout);
  assert.equal(status.healthy, false);
  assert.equal(status.machines[0].services[0].state, 'stopped');
});

test('an unknown host key is refused unless accepted explicitly; then it is remembered', async () => {
  await writeFile(join(dir, 'web.run'), '');
  const emptyKnownHosts = join(dir, 'known_hosts.empty');
  await writeFile(emptyKnownHosts, '');
  const fleet = await writeFleet('fleet-new.yaml', emptyKnownHosts);
  const refused = await lifeboat(['status', '--fleet', fleet, '--json']);
  assert.equal(refused.code, 1);
  const machine = JSON.parse(refused.stdout).machines[0];
  assert.equal(machine.reachable, false);
  assert.match(machine.error, /host key/i);
  assert.ok(machine.error.includes(sshd.hostKeyFingerprint()), machine.error);

  const accepted = await lifeboat(['status', '--fleet', fleet, '--json', '--accept-new-host-keys']);
  assert.equal(accepted.code, 0, accepted.stderr);
  const again = await lifeboat(['status', '--fleet', fleet, '--json']);
  assert.equal(again.code, 0, 'the accepted key was written to known_hosts');
});

test('a changed host key is refused with a clear message', async () => {
  const fleet = await writeFleet('fleet.yaml', sshd.knownHostsFile);
  const knownBefore = sshd.hostKeyFingerprint();
  await sshd.restart({ newHostKey: true });
  try {
    const { code, stdout } = await lifeboat(['status', '--fleet', fleet, '--json']);
    assert.equal(code, 1);
    const machine = JSON.parse(stdout).machines[0];
    assert.equal(machine.reachable, false);
    assert.match(machine.error, /changed/i);
    assert.ok(machine.error.includes(knownBefore) || machine.error.includes(sshd.hostKeyFingerprint()), machine.error);
  } finally {
    await sshd.restart({ newHostKey: false });
  }
});

test('a broken fleet file exits 2 with file:line', async () => {
  const file = join(dir, 'broken.yaml');
  await writeFile(file, 'version: 1\nname: x\nmachines:\n  - name: a\n    address: 1.2.3.4\n    roles: [ap]\n');
  const { code, stderr } = await lifeboat(['status', '--fleet', file]);
  assert.equal(code, 2);
  assert.match(stderr, /broken\.yaml:6:\d+: machines\[0\]\.roles\[0\]: role `ap` is not valid — did you mean `app`\?/);
});
