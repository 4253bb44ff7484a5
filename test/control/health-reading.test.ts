/**
 * One reading of the conditions against the real thing on this machine (as root, like the lab
 * tests): `df` on a real tmpfs filled to the brim, a service whose driver says it is stopped,
 * a backup store with no copy, all through the same LocalRemote contract SSH implements. The
 * daemon's rounds and streaks over such readings are unit-tested (src/control/watch.test.ts).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { ActionContext } from '../../src/actions/action.ts';
import { readHealth } from '../../src/control/health-reading.ts';
import { parseFleet } from '../../src/fleet/load.ts';
import { MINIMAL_DATABASE_YAML } from '../../src/fleet/fixtures.ts';
import { conditionsOf } from '../../src/health/conditions.ts';
import { fleetStatus } from '../../src/health/fleet-status.ts';
import { LocalRemote } from '../../src/remote/local.ts';

const skip = process.getuid?.() !== 0 ? 'needs root (mounts a tmpfs)' : false;
let dir: string;

before(async () => {
  if (skip) return;
  dir = await mkdtemp(join(tmpdir(), 'lifeboat-health-'));
  await mkdir(join(dir, 'web'));
  await mkdir(join(dir, 'dumps'));
  // A 1 MiB disk, filled: what a full data folder looks like to df.
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'lifeboat-test', join(dir, 'web')]);
  execFileSync('sh', ['-c', `dd if=/dev/zero of=${join(dir, 'web', 'fill')} bs=4096 2>/dev/null || true`]);
});
after(async () => {
  if (skip) return;
  execFileSync('umount', [join(dir, 'web')]);
  await rm(dir, { recursive: true, force: true });
});

test('a reading on this machine: a full disk, a stopped service and a store without copies are conditions', { skip }, async () => {
  const fleet = parseFleet(`version: 1
name: here
machines:
  - { name: here, address: 127.0.0.1, roles: [app, backup-store] }
  - { name: db, address: 127.0.0.2, roles: [db-primary] }
services:
  web: { roles: [app], dir: ${dir}/web, driver: { type: command, start: "true", stop: "true", status: "false" } }
backups: { stores: [here], dumpDir: ${dir}/dumps }
${MINIMAL_DATABASE_YAML}`);
  const ctx = { fleet, remote: () => new LocalRemote('here'), secret: async () => 'unused', log: () => undefined } as unknown as ActionContext;
  const alive = new Set(['here']);
  const reading = await readHealth(ctx, alive, () => fleetStatus({ ...fleet, machines: fleet.machines.filter((m) => alive.has(m.name)) }, { remote: ctx.remote, secret: ctx.secret }), []);
  assert.deepEqual(reading.diskErrors, []);
  const web = reading.disks.find((d) => d.mount === join(dir, 'web'));
  assert.equal(web?.usedPercent, 100, JSON.stringify(reading.disks));
  const found = conditionsOf(reading, { diskFullPercent: 90, backupMaxAgeS: 3600, binlogMaxLagS: 60, certWarnDays: 14 });
  assert.deepEqual(found.conditions.map((c) => `${c.kind} ${c.target}`).sort(), [`backup-stale here`, `disk-full here:${join(dir, 'web')}`, 'service-down here/web']);
  assert.deepEqual(found.unreadable, []);
});
