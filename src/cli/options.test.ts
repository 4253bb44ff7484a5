import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { UsageError } from './exit.ts';
import { fleetFileOf } from './options.ts';

test('the fleet file: --fleet, else $LIFEBOAT_FLEET, else ./fleet.yaml, the same for every command', async () => {
  const warnings: string[] = [];
  const warn = (line: string) => warnings.push(line);
  assert.equal(fleetFileOf({ fleet: 'a.yaml' }, undefined, { env: { LIFEBOAT_FLEET: 'env.yaml' }, warn }), 'a.yaml');
  assert.equal(fleetFileOf({}, undefined, { env: { LIFEBOAT_FLEET: 'env.yaml' }, warn }), 'env.yaml');
  assert.deepEqual(warnings, []);
  const cwd = process.cwd();
  const dir = await mkdtemp(join(tmpdir(), 'lifeboat-options-'));
  try {
    process.chdir(dir);
    assert.throws(() => fleetFileOf({}, undefined, { env: {}, warn }), (e: unknown) =>
      e instanceof UsageError && e.message.includes(join(dir, 'fleet.yaml')) && /--fleet/.test(e.message) && /LIFEBOAT_FLEET/.test(e.message));
    assert.equal(fleetFileOf({}, undefined, { env: {}, warn, fallback: '/x/example.yaml' }), '/x/example.yaml');
    await writeFile(join(dir, 'fleet.yaml'), 'version: 1\n');
    assert.equal(fleetFileOf({}, undefined, { env: {}, warn, fallback: '/x/example.yaml' }), 'fleet.yaml');
  } finally {
    process.chdir(cwd);
    await rm(dir, { recursive: true, force: true });
  }
});

test('the old positional fleet file still works where it did, with a warning, and never against another --fleet', () => {
  const warnings: string[] = [];
  assert.equal(fleetFileOf({}, 'old.yaml', { env: {}, warn: (l) => warnings.push(l) }), 'old.yaml');
  assert.match(warnings[0]!, /deprecated.*--fleet old\.yaml/);
  assert.equal(fleetFileOf({ fleet: 'same.yaml' }, 'same.yaml', { env: {}, warn: () => undefined }), 'same.yaml');
  assert.throws(() => fleetFileOf({ fleet: 'b.yaml' }, 'a.yaml', { env: {} }), /two fleet files given/);
});
