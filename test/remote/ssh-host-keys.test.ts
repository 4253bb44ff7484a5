// Strict host-key checking against a real sshd: unknown keys refused unless explicitly
// accepted, changed keys always refused with a message an operator can act on.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { RemoteError } from '../../src/remote/remote.ts';
import type { SshRemote, SshRemoteOptions } from '../../src/remote/ssh.ts';
import { sshRemoteTo, startSshd, type Sshd } from '../support/sshd.ts';

const run = promisify(execFile);

describe('SshRemote host keys', () => {
  let sshd: Sshd;
  const opened: SshRemote[] = [];
  function remote(overrides: Partial<SshRemoteOptions> = {}): SshRemote {
    const r = sshRemoteTo(sshd, 'db1', overrides);
    opened.push(r);
    return r;
  }

  before(async () => {
    sshd = await startSshd();
  });
  after(async () => {
    await Promise.allSettled(opened.map((r) => r.close()));
    await sshd?.stop();
  });

  test('a known key connects', async () => {
    assert.equal((await remote().run('echo ok')).stdout, 'ok\n');
  });

  test('an unknown key is refused with its fingerprint and how to accept it; nothing is written', async () => {
    const file = join(sshd.dir, 'empty_known_hosts');
    await writeFile(file, '# nothing known yet\n');
    const notices: string[] = [];
    await assert.rejects(remote({ knownHostsFile: file, notice: (l) => notices.push(l) }).run('true'), (error: unknown) => {
      assert.ok(error instanceof RemoteError);
      assert.equal(error.code, 'host-key-unknown');
      assert.match(error.message, /^db1: /);
      assert.ok(error.message.includes(sshd.hostKeyFingerprint()), error.message);
      assert.ok(error.message.includes(`127.0.0.1:${sshd.port}`));
      assert.match(error.message, /acceptNewHostKeys|--accept-new-host-keys/);
      console.log(`unknown key message: ${error.message}`);
      return true;
    });
    assert.equal(await readFile(file, 'utf8'), '# nothing known yet\n');
    assert.deepEqual(notices, []);
    // The same for a known_hosts file that does not exist at all.
    await assert.rejects(remote({ knownHostsFile: join(sshd.dir, 'no/such/file') }).run('true'), { code: 'host-key-unknown' });
  });

  test('with the explicit opt-in an unknown key is appended, said so, and known from then on', async () => {
    const file = join(sshd.dir, 'accept_known_hosts');
    await writeFile(file, '# operator comment\n');
    const notices: string[] = [];
    const accepting = remote({ knownHostsFile: file, acceptNewHostKeys: true, notice: (l) => notices.push(l) });
    assert.equal((await accepting.run('echo in')).stdout, 'in\n');
    const text = await readFile(file, 'utf8');
    const pub = (await readFile(join(sshd.dir, (await hostKeyName(sshd)) + '.pub'), 'utf8')).split(' ');
    assert.equal(text, `# operator comment\n[127.0.0.1]:${sshd.port} ${pub[0]} ${pub[1]}\n`);
    assert.equal(notices.length, 1);
    assert.ok(notices[0]?.includes(sshd.hostKeyFingerprint()) && notices[0].includes(file), notices[0]);
    // A strict remote now connects with that file, and the opt-in does not append twice.
    assert.equal((await remote({ knownHostsFile: file }).run('echo strict')).stdout, 'strict\n');
    await accepting.close();
    await accepting.run('true');
    assert.equal(await readFile(file, 'utf8'), text);
  });

  test('hashed known_hosts entries (ssh-keygen -H) are honoured', async () => {
    const file = join(sshd.dir, 'hashed_known_hosts');
    await writeFile(file, await readFile(sshd.knownHostsFile));
    await run('ssh-keygen', ['-H', '-f', file]);
    const text = await readFile(file, 'utf8');
    assert.match(text, /^\|1\|/);
    assert.ok(!text.includes('127.0.0.1'));
    assert.equal((await remote({ knownHostsFile: file }).run('echo hashed')).stdout, 'hashed\n');
  });

  test('a CHANGED key is refused, even with the opt-in, naming both fingerprints and the line', async () => {
    const file = join(sshd.dir, 'changed_known_hosts');
    const original = `# line 1\n# line 2\n${await readFile(sshd.knownHostsFile, 'utf8')}`;
    await writeFile(file, original);
    const expected = sshd.hostKeyFingerprint();
    const connected = remote({ knownHostsFile: file });
    assert.equal((await connected.run('echo before')).stdout, 'before\n');

    await sshd.restart({ newHostKey: true });
    const offered = sshd.hostKeyFingerprint();
    assert.notEqual(offered, expected);
    for (const acceptNewHostKeys of [false, true]) {
      await assert.rejects(remote({ knownHostsFile: file, acceptNewHostKeys }).run('true'), (error: unknown) => {
        assert.ok(error instanceof RemoteError);
        assert.equal(error.code, 'host-key-changed');
        for (const part of ['db1', `127.0.0.1:${sshd.port}`, expected, offered, `${file} line 3`, 'man-in-the-middle', 'replaces line 3', 'lifeboat hosts trust db1 --fingerprint']) {
          assert.ok(error.message.includes(part), `missing ${JSON.stringify(part)} in: ${error.message}`);
        }
        assert.ok(error.message.includes(original.split('\n')[2] as string), 'the known_hosts line itself');
        if (!acceptNewHostKeys) console.log(`changed key message:\n${error.message}`);
        return true;
      });
    }
    assert.equal(await readFile(file, 'utf8'), original, 'known_hosts must not be touched');

    // An established connection only notices when it has to reconnect, and then refuses too.
    await sshd.dropConnections();
    await assert.rejects(
      (async () => {
        // Bounded: the dropped connection may need one failed command to be noticed.
        for (let i = 0; i < 3; i++) await connected.run('true').catch((e: RemoteError) => {
          if (e.code !== 'connect-failed') throw e;
        });
      })(),
      { code: 'host-key-changed' },
    );
  });
});

async function hostKeyName(sshd: Sshd): Promise<string> {
  const config = await readFile(join(sshd.dir, 'sshd_config'), 'utf8');
  const path = /^HostKey (.+)$/m.exec(config)?.[1] ?? '';
  return path.slice(path.lastIndexOf('/') + 1);
}
