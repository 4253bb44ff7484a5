import assert from 'node:assert/strict';
import { createCipheriv, createHash, randomBytes, scryptSync } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { manifestMac, manifestMacMatches, openFile, SEAL_CHUNK, sealFile, SealError } from './seal.ts';

let dir: string;
before(async () => { dir = await mkdtemp(join(tmpdir(), 'lifeboat-seal-')); });
after(async () => { await rm(dir, { recursive: true, force: true }); });

const KEY = 'k3y-for-offsite';
const rejects = (p: Promise<unknown>, code: SealError['code']) => assert.rejects(p, (e: unknown) => e instanceof SealError && e.code === code);

test('sealed and opened again byte for byte: empty, one chunk, exactly one chunk, several chunks', async () => {
  for (const size of [0, 1, SEAL_CHUNK, SEAL_CHUNK + 1, 3 * SEAL_CHUNK + 17]) {
    const clear = randomBytes(size);
    await writeFile(join(dir, 'clear'), clear);
    const written = await sealFile(join(dir, 'clear'), join(dir, 'sealed'), KEY);
    const sealed = await readFile(join(dir, 'sealed'));
    assert.deepEqual(written, { bytes: sealed.length, sha256: createHash('sha256').update(sealed).digest('hex') }, 'the digest counted on the way is the file\'s');
    if (size >= 64) assert.ok(!sealed.includes(clear.subarray(0, 64)), 'the clear bytes are not in the sealed file');
    assert.equal((await stat(join(dir, 'sealed'))).mode & 0o777, 0o600);
    const opened = await openFile(join(dir, 'sealed'), join(dir, 'opened'), KEY);
    assert.deepEqual(await readFile(join(dir, 'opened')), clear, `size ${size}`);
    assert.deepEqual(opened, { bytes: size, sha256: createHash('sha256').update(clear).digest('hex') });
  }
});

test('a flipped byte, a file cut at a chunk boundary, a dropped or a swapped chunk and a wrong key are refused, and nothing is written', async () => {
  const clear = randomBytes(3 * SEAL_CHUNK + 5);
  await writeFile(join(dir, 'c'), clear);
  await sealFile(join(dir, 'c'), join(dir, 's'), KEY);
  const sealed = await readFile(join(dir, 's'));
  const header = 8 + 16 + 7;
  const chunk = SEAL_CHUNK + 16;
  const variants: Record<string, Buffer> = {
    flipped: Buffer.from(sealed).fill(sealed[header + 10]! ^ 1, header + 10, header + 11),
    'cut at a chunk boundary': sealed.subarray(0, header + 2 * chunk),
    'a chunk dropped': Buffer.concat([sealed.subarray(0, header), sealed.subarray(header + chunk)]),
    'two chunks swapped': Buffer.concat([sealed.subarray(0, header), sealed.subarray(header + chunk, header + 2 * chunk), sealed.subarray(header, header + chunk), sealed.subarray(header + 2 * chunk)]),
  };
  for (const [what, bytes] of Object.entries(variants)) {
    await writeFile(join(dir, 'bad'), bytes);
    await rejects(openFile(join(dir, 'bad'), join(dir, `out-${what}`), KEY), 'wrong-key-or-damaged');
  }
  await rejects(openFile(join(dir, 's'), join(dir, 'out-key'), 'another key'), 'wrong-key-or-damaged');
  await writeFile(join(dir, 'plain'), 'just text, never sealed, long enough for a header ........');
  await rejects(openFile(join(dir, 'plain'), join(dir, 'out-plain'), KEY), 'not-sealed');
  assert.deepEqual((await readdir(dir)).filter((f) => f.startsWith('out-') || f.includes('.tmp')), [], 'no partial output left');
  await truncate(join(dir, 's'), header + 3);
  await rejects(openFile(join(dir, 's'), join(dir, 'out-short'), KEY), 'wrong-key-or-damaged');
});

test("a manifest's MAC matches its text only, under its key only", () => {
  const text = '{"stamp":"20260301T100000Z","copies":[{"tables":{"users":50}}]}\n';
  const mac = manifestMac(text, KEY);
  assert.equal(manifestMacMatches(text, mac, KEY), true);
  assert.equal(manifestMacMatches(text.replace('50', '49'), mac, KEY), false);
  assert.equal(manifestMacMatches(text, mac, 'other'), false);
  assert.equal(manifestMacMatches(text, 'nothex', KEY), false);
});

test('an archive sealed by an earlier version (whole-file "LBENC1") still opens, and only with its key', async () => {
  // That format, as it was written: "LBENC1" | salt | iv | AES-256-GCM ciphertext | tag.
  const clear = Buffer.from('tar bytes '.repeat(100));
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', scryptSync(KEY, salt, 32), iv);
  const body = Buffer.concat([cipher.update(clear), cipher.final()]);
  await writeFile(join(dir, 'legacy'), Buffer.concat([Buffer.from('LBENC1'), salt, iv, body, cipher.getAuthTag()]));
  await openFile(join(dir, 'legacy'), join(dir, 'legacy-open'), KEY);
  assert.deepEqual(await readFile(join(dir, 'legacy-open')), clear);
  await rejects(openFile(join(dir, 'legacy'), join(dir, 'legacy-bad'), 'other'), 'wrong-key-or-damaged');
});
