/**
 * The sealed binary log of off-site stores, end to end on this machine: the loop's own
 * `seal` function (bash, openssl) seals a growing file for the key derived from a backup
 * key, and the operator's side opens it back byte for byte — and refuses what does not add up.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, mkdtemp, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { certificateMatches, openSealedFile, sealCertificate, sealKey, SealedLogError } from './binlog-seal.ts';
import { SEAL_FUNCTION } from './binlogs.ts';

const NAME = 'mysql-bin.000001';
let dir: string;
let stage: string;
let out: string;
const secret = `backup key ${randomBytes(8).toString('hex')}`;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lifeboat-seal-test-'));
  stage = join(dir, 'stage');
  out = join(dir, 'out');
  await mkdir(stage);
  await mkdir(out);
  await writeFile(join(dir, 'seal.crt'), await sealCertificate(secret));
});
after(() => rm(dir, { recursive: true, force: true }));

const seal = () => execFileSync('bash', ['-c', `set -u\ndir=${dir}\n${SEAL_FUNCTION}\nseal "$1" "$2"`, 'seal', stage, out]);
const open = (sealed = join(out, `${NAME}.sealed`), key = secret) => openSealedFile(sealed, NAME, join(dir, 'opened'), key);
const opened = () => readFile(join(dir, 'opened'));

test('the key a backup key stands for is the same every time, and its certificate is recognised', async () => {
  const a = sealKey(secret).export({ type: 'pkcs8', format: 'der' });
  assert.ok(a.equals(sealKey(secret).export({ type: 'pkcs8', format: 'der' })));
  assert.ok(!a.equals(sealKey(`${secret}x`).export({ type: 'pkcs8', format: 'der' })), 'another backup key, another key pair');
  const cert = await readFile(join(dir, 'seal.crt'), 'utf8');
  assert.ok(certificateMatches(cert, secret));
  assert.ok(!certificateMatches(cert, `${secret}x`));
  assert.ok(!certificateMatches('not a certificate', secret));
});

test('a growing file is sealed round by round, holds none of its clear bytes, and opens back whole', async () => {
  const a = randomBytes(5000);
  const b = randomBytes(3000);
  await writeFile(join(stage, NAME), a);
  seal();
  await appendFile(join(stage, NAME), b);
  seal();
  seal(); // nothing new: no record
  const sealed = await readFile(join(out, `${NAME}.sealed`));
  assert.equal(sealed.indexOf(a.subarray(100, 132)), -1, 'no clear bytes in the sealed copy');
  assert.equal(sealed.indexOf(b.subarray(100, 132)), -1);
  assert.equal((await readFile(join(out, `${NAME}.sealed-upto`), 'utf8')).trim(), `8000 ${sealed.length}`);
  const r = await open();
  assert.deepEqual({ bytes: r.bytes, records: r.records, cutShort: r.cutShort, stopped: r.stopped }, { bytes: 8000, records: 2, cutShort: false, stopped: undefined });
  assert.ok((await opened()).equals(Buffer.concat([a, b])));
});

test('what a crash left half-appended is cut off before the next record', async () => {
  const before = await readFile(join(stage, NAME));
  await appendFile(join(out, `${NAME}.sealed`), Buffer.from('LBREC 8000 999\npartial'));
  const c = randomBytes(1000);
  await appendFile(join(stage, NAME), c);
  seal();
  const r = await open();
  assert.equal(r.records, 3);
  assert.equal(r.stopped, undefined);
  assert.ok((await opened()).equals(Buffer.concat([before, c])));
});

test('a sealed copy cut short opens up to its last whole record; another key is refused', async () => {
  const copy = join(dir, 'cut.sealed');
  const sealed = await readFile(join(out, `${NAME}.sealed`));
  await writeFile(copy, sealed.subarray(0, sealed.length - 5));
  const r = await open(copy);
  assert.equal(r.cutShort, true);
  assert.equal(r.bytes, 8000, 'the last record, cut, is not used');
  await assert.rejects(open(join(out, `${NAME}.sealed`), `${secret}x`), SealedLogError);
});

test('a record missing in the middle is a gap: nothing after it is used', async () => {
  const sealed = await readFile(join(out, `${NAME}.sealed`));
  // Split into records by their headers, drop the second.
  const records: Buffer[] = [];
  let at = 0;
  while (at < sealed.length) {
    const nl = sealed.indexOf(0x0a, at);
    const length = Number(/LBREC \d+ (\d+)/.exec(sealed.subarray(at, nl).toString())![1]);
    records.push(sealed.subarray(at, nl + 1 + length));
    at = nl + 1 + length;
  }
  assert.equal(records.length, 3);
  const holed = join(dir, 'holed.sealed');
  await writeFile(holed, Buffer.concat([records[0]!, records[2]!]));
  const r = await open(holed);
  assert.equal(r.bytes, 5000);
  assert.match(r.stopped ?? '', /skips bytes 5000–7999: a gap/);
  // A record moved to another place does not pass for the one there.
  const moved = join(dir, 'moved.sealed');
  const second = records[1]!;
  const body = second.subarray(second.indexOf(0x0a) + 1);
  await writeFile(moved, Buffer.concat([records[0]!, Buffer.from(`LBREC 5000 ${body.length}\n`), body, records[1]!]));
  assert.equal((await stat(moved)).size > 0, true);
  const m = await open(moved);
  assert.equal(m.stopped, undefined, 'its own header inside the envelope says 5000: the same record twice adds nothing');
  assert.equal(m.bytes, 8000);
  const lying = join(dir, 'lying.sealed');
  await writeFile(lying, Buffer.concat([records[0]!, Buffer.from(`LBREC 4000 ${body.length}\n`), body]));
  assert.match((await open(lying)).stopped ?? '', /not the one its place says/);
  await truncate(holed, 3);
  assert.deepEqual({ ...(await open(holed)) }, { bytes: 0, records: 0, cutShort: true }, 'cut inside its first header: nothing to open, and said so');
  await writeFile(holed, Buffer.concat([Buffer.from('garbage that is no header\n'), records[0]!]));
  await assert.rejects(open(holed), /not a record header/);
});

test('a big first fetch is sealed in pieces of at most 16 MiB, and opens back whole', async () => {
  const name = 'mysql-bin.000002';
  const big = randomBytes(17 * 1024 * 1024 + 123);
  await writeFile(join(stage, name), big);
  seal();
  const r = await openSealedFile(join(out, `${name}.sealed`), name, join(dir, 'opened-big'), secret);
  assert.deepEqual({ bytes: r.bytes, records: r.records, stopped: r.stopped }, { bytes: big.length, records: 2, stopped: undefined });
  assert.ok((await readFile(join(dir, 'opened-big'))).equals(big));
});
