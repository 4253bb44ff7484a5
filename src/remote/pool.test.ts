import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fleetSchema, type FleetInput } from '../fleet/schema.ts';
import { LocalRemote } from './local.ts';
import { expandHome, remoteFor, RemotePool } from './pool.ts';
import { RemoteError, type Remote } from './remote.ts';
import { SshRemote } from './ssh.ts';

const input: FleetInput = {
  version: 1,
  name: 'shop',
  ssh: { user: 'deploy', port: 2200, identity: 'env:FLEET_KEY', knownHosts: '~/.ssh/lifeboat_known_hosts', connectTimeoutMs: 3000 },
  machines: [
    { name: 'db1', address: '127.0.0.10', roles: ['db-primary'] },
    { name: 'web1', address: '127.0.0.20', roles: ['edge'], ssh: { port: 22, identity: 'env:WEB_KEY', knownHosts: 'hosts/known' } },
  ],
};
// Loopback addresses: even a mistake in these tests never sends a packet off this machine.
const fleet = fleetSchema.parse(input);

test('remoteFor merges fleet ssh defaults with the machine settings', async () => {
  const asked: string[] = [];
  const secret = async (ref: string) => {
    asked.push(ref);
    return 'not-a-key';
  };
  const db = remoteFor(fleet, 'db1', { secret, homeDir: '/home/op', baseDir: '/etc/lifeboat' });
  assert.ok(db instanceof SshRemote);
  assert.equal(db.machine, 'db1');
  assert.equal(db.address, '127.0.0.10:2200');
  const web = remoteFor(fleet, 'web1', { secret, homeDir: '/home/op', baseDir: '/etc/lifeboat' });
  assert.equal(web.address, '127.0.0.20:22');
  // Nothing is resolved or dialled until the first command.
  assert.deepEqual(asked, []);
});

test('remoteFor resolves the identity only when connecting, and never prints it', async () => {
  const asked: string[] = [];
  const remote = remoteFor(fleet, 'web1', {
    secret: async (ref) => {
      asked.push(ref);
      return 'SECRET-KEY-MATERIAL';
    },
    homeDir: '/home/op',
    baseDir: '/nonexistent-lifeboat',
  });
  await assert.rejects(remote.run('true'), (error: unknown) => {
    assert.ok(error instanceof RemoteError);
    assert.equal(error.code, 'auth-failed');
    assert.doesNotMatch(error.message, /SECRET-KEY-MATERIAL/);
    return true;
  });
  assert.deepEqual(asked, ['env:WEB_KEY']);
});

test('remoteFor refuses an unknown machine with a typed error', () => {
  assert.throws(
    () => remoteFor(fleet, 'db9', { secret: async () => '' }),
    (error: unknown) => error instanceof RemoteError && error.code === 'unknown-machine' && /db1, web1/.test(error.message),
  );
});

test('expandHome expands ~ and resolves relative paths', () => {
  assert.equal(expandHome('~/.ssh/known_hosts', '/home/op', '/x'), '/home/op/.ssh/known_hosts');
  assert.equal(expandHome('~', '/home/op', '/x'), '/home/op');
  assert.equal(expandHome('/etc/ssh/known', '/home/op', '/x'), '/etc/ssh/known');
  assert.equal(expandHome('hosts/known', '/home/op', '/etc/lifeboat'), '/etc/lifeboat/hosts/known');
});

test('RemotePool hands out one Remote per machine and closes them all', async () => {
  const made: string[] = [];
  const closed: string[] = [];
  const pool = new RemotePool((machine) => {
    made.push(machine);
    const local = new LocalRemote(machine);
    const remote: Remote = Object.assign(Object.create(local) as LocalRemote, {
      close: async () => {
        closed.push(machine);
        if (machine === 'b') throw new Error('close failed');
      },
    });
    return remote;
  });
  assert.equal(pool.get('a'), pool.get('a'));
  assert.notEqual(pool.get('a'), pool.get('b'));
  assert.equal((await pool.get('a').run('echo hi')).stdout, 'hi\n');
  assert.deepEqual(made, ['a', 'b']);
  assert.deepEqual(pool.machines(), ['a', 'b']);
  await pool.closeAll();
  assert.deepEqual(closed.sort(), ['a', 'b']);
  assert.deepEqual(pool.machines(), []);
});
