import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSenderReport, receiverScript, senderScript, streamKeyLine } from './stream.ts';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH5yZXN0cmljdGVkLWtleS1mb3ItdGVzdHM= lifeboat-stream:00';

test("a copy's key works from the source's address only, and runs its receiver only", () => {
  const line = streamKeyLine(KEY, '198.51.100.10', '/tmp/lifeboat-stream.abc/receive', '0123456789abcdef');
  assert.equal(line, 'restrict,from="198.51.100.10",command="/bin/bash /tmp/lifeboat-stream.abc/receive" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH5yZXN0cmljdGVkLWtleS1mb3ItdGVzdHM= lifeboat-stream:0123456789abcdef');
  assert.throws(() => streamKeyLine(KEY, '198.51.100.10" ,command="sh', '/tmp/r', 'n'), /not an address/);
  assert.throws(() => streamKeyLine(KEY, '198.51.100.10', '/tmp/r"; rm -rf /', 'n'), /receiver path/);
  assert.throws(() => streamKeyLine('garbage', '198.51.100.10', '/tmp/r', 'n'), /not an SSH public key/);
});

test('the receiver fails the copy when writing fails (pipefail), and the sender hashes what it sends', () => {
  assert.match(receiverScript('/data/x.part'), /set -euo pipefail\n.*\ntee -- \/data\/x\.part \| sha256sum/);
  const sender = senderScript('/tmp/d', '/backups/a b.zst', { address: '203.0.113.5', port: 2222, user: 'root', sourceAddress: '203.0.113.4' });
  assert.match(sender, /cat -- '\/backups\/a b\.zst' \| tee -- "\$d\/fifo" \| ssh -T /);
  assert.match(sender, /StrictHostKeyChecking=yes .*-p 2222 root@203\.0\.113\.5 /);
});

test("the sender's report is read field by field; a missing field is not a number", () => {
  const a = 'a'.repeat(64);
  assert.deepEqual(parseSenderReport(`rc=0\nsent=${a}\nreceived=${a}\nbytes=12\n`), { rc: 0, sent: a, received: a, bytes: 12 });
  const cut = parseSenderReport('rc=255\nsent=\n');
  assert.equal(cut.rc, 255);
  assert.equal(cut.received, '');
  assert.ok(Number.isNaN(cut.bytes));
});
