/**
 * Copies machine to machine (`remote/stream.ts`, `actions/provision/relay.ts`) between two lab
 * hosts, each with its own sshd, disk and authorized_keys: the file goes straight from one
 * to the other with a key made for that copy, both ends agree on its sha256, and afterwards
 * nothing of the copy's trust or temporary files is left; a wrong expected sum puts nothing
 * in place; a source that cannot reach the target's sshd has the copy relayed through the
 * operator instead.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ActionContext } from '../../src/actions/action.ts';
import { moveFile } from '../../src/actions/provision/relay.ts';
import { loadFleet } from '../../src/fleet/load.ts';
import type { Fleet } from '../../src/fleet/schema.ts';
import { Lab } from '../../src/lab/lab.ts';
import { canRunLab, forceDown, randomLabId } from '../lab/helpers.ts';

const TWO_MACHINES = `version: 1
name: two
machines:
  - { name: keeper, address: 192.0.2.1, roles: [backup-store] }
  - { name: fresh, address: 192.0.2.2, roles: [backup-store] }
`;

describe('copies between machines', { skip: canRunLab() }, () => {
  const id = randomLabId();
  let lab: Lab;
  let fleet: Fleet;
  let dir: string;
  const logs: string[] = [];
  const ctx = (f: Fleet = fleet): ActionContext => ({
    fleet: f,
    remote: (m) => lab.remote(m),
    secret: async () => { throw new Error('no secrets here'); },
    log: (m) => logs.push(m),
  });
  /** The fleet with SSH settings of its own for the target machine. */
  const withFresh = (ssh: Partial<Fleet['ssh']>): Fleet => ({ ...fleet, machines: fleet.machines.map((m) => (m.name === 'fresh' ? { ...m, ssh: { ...m.ssh, ...ssh } } : m)) });
  const sh = async (host: string, command: string) => {
    const r = await lab.exec(host, command);
    assert.equal(r.code, 0, `${host}: ${command}: ${r.stderr}`);
    return r.stdout.trim();
  };
  /** What a copy may leave behind: its key line, work folders, parts. */
  const traces = (host: string) => sh(host, 'cat ~/.ssh/authorized_keys 2>/dev/null | grep -c lifeboat-stream || true; ls -d /tmp/lifeboat-stream.* /var/lib/lifeboat/in/*.lifeboat-part-* 2>/dev/null | wc -l');

  before(async () => {
    dir = await mkdtemp('/var/tmp/lifeboat-stream-test-');
    await writeFile(join(dir, 'fleet.yaml'), TWO_MACHINES);
    lab = await Lab.up({ id, fleetFile: join(dir, 'fleet.yaml') });
    fleet = await loadFleet(lab.fleetFile);
    await sh('keeper', 'mkdir -p /var/lib/lifeboat/out && head -c 24000000 /dev/urandom > /var/lib/lifeboat/out/copy.bin');
    await sh('fresh', 'mkdir -p ~/.ssh && printf "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOperatorsOwnKeyStaysHere operator\\n" >> ~/.ssh/authorized_keys');
  });
  after(async () => {
    await forceDown(id);
    await rm(dir, { recursive: true, force: true });
  });

  test('straight from one machine to the other: same sha256 on both ends, nothing of the copy left', async () => {
    const keysBefore = await sh('fresh', 'cat ~/.ssh/authorized_keys');
    const sum = (await sh('keeper', 'sha256sum /var/lib/lifeboat/out/copy.bin')).split(' ')[0];
    const moved = await moveFile(ctx(), 'keeper', '/var/lib/lifeboat/out/copy.bin', 'fresh', '/var/lib/lifeboat/in/copy.bin', { expectSha256: sum });
    assert.equal(moved.route, 'direct', logs.join('\n'));
    assert.equal((await sh('fresh', 'sha256sum /var/lib/lifeboat/in/copy.bin')).split(' ')[0], sum);
    assert.match(logs.at(-1)!, /streamed directly \(24000000 bytes/);
    assert.equal(await sh('fresh', 'cat ~/.ssh/authorized_keys'), keysBefore, 'the copy key is taken back, the other keys stay');
    assert.equal(await traces('fresh'), '0\n0');
    assert.equal(await traces('keeper'), '0\n0');
  });

  test('a sum that does not match: nothing put in place, the copy tried twice, nothing left', async () => {
    logs.length = 0;
    await assert.rejects(
      moveFile(ctx(), 'keeper', '/var/lib/lifeboat/out/copy.bin', 'fresh', '/var/lib/lifeboat/in/wrong.bin', { expectSha256: 'f'.repeat(64) }),
      /has sha256 [0-9a-f]{64}, expected f{64}/,
    );
    assert.match(logs.join('\n'), /starting it again from the start/);
    assert.equal(await sh('fresh', '[ -e /var/lib/lifeboat/in/wrong.bin ] && echo there || echo absent'), 'absent');
    assert.equal(await traces('fresh'), '0\n0');
  });

  test('a source that cannot reach the target: the copy is relayed through the operator', async () => {
    logs.length = 0;
    // Nothing listens on port 2 there (the operator reaches the lab's hosts through their
    // namespaces, not this port): refused at once, as a firewall that rejects would.
    const closed = withFresh({ port: 2 });
    const moved = await moveFile(ctx(closed), 'keeper', '/var/lib/lifeboat/out/copy.bin', 'fresh', '/var/lib/lifeboat/in/relayed.bin', { timeoutMs: 120_000 });
    assert.equal(moved.route, 'relayed');
    assert.match(logs.join('\n'), /cannot open SSH from keeper to fresh \(198\.51\.100\.\d+:2\): .*Connection refused; relaying/);
    assert.equal(await sh('fresh', 'cmp /var/lib/lifeboat/in/relayed.bin /var/lib/lifeboat/in/copy.bin && echo same'), 'same');
    assert.equal(await traces('fresh'), '0\n0');
    assert.equal(await traces('keeper'), '0\n0');
  });

  test('ssh.machineToMachine false on the target: relayed without trying', async () => {
    logs.length = 0;
    const moved = await moveFile(ctx(withFresh({ machineToMachine: false })), 'keeper', '/var/lib/lifeboat/out/copy.bin', 'fresh', '/var/lib/lifeboat/in/plain.bin');
    assert.equal(moved.route, 'relayed');
    assert.deepEqual(logs, []);
    assert.equal(await sh('fresh', 'cmp /var/lib/lifeboat/in/plain.bin /var/lib/lifeboat/in/copy.bin && echo same'), 'same');
  });
});
