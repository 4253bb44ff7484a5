/**
 * The batched probe the daemon runs on each witness, run here through a real shell and Perl
 * against loopback: one target's open port is up, a closed port down, and each line lands
 * with its own target.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { parseRemoteProbe, remoteProbesScript } from './verdict.ts';

test('one command probes several targets side by side, each answer under its own target', async () => {
  const open = createServer(() => undefined);
  await new Promise<void>((resolve) => open.listen(0, '127.0.0.1', resolve));
  const closed = createServer(() => undefined);
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const openPort = (open.address() as AddressInfo).port;
  const closedPort = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  try {
    const script = remoteProbesScript([{ address: '127.0.0.1', ports: [closedPort] }, { address: '127.0.0.1', ports: [openPort, closedPort] }], 2, 1);
    const stdout = await new Promise<string>((resolve, reject) => execFile('sh', ['-c', script], { timeout: 10_000 }, (e, out) => (e ? reject(e) : resolve(out))));
    const of = (i: number) => stdout.split('\n').filter((l) => l.startsWith(`${i} `)).map((l) => l.slice(2)).join('\n');
    assert.deepEqual(parseRemoteProbe(of(0), [closedPort], 2).map((c) => c.seen), ['down']);
    assert.deepEqual(parseRemoteProbe(of(1), [openPort, closedPort], 2).map((c) => c.seen), ['up', 'down']);
  } finally {
    open.close();
  }
});
