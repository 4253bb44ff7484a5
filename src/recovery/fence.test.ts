/**
 * The singleton fence for a machine no path reaches: the fleet's fencing command (run here,
 * in a real shell, with the machine named in its environment), a person's confirmation, or a
 * refusal. The verdict is the one a run has just taken (`dead`), remembered as the run would.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { ActionContext } from '../actions/action.ts';
import { MINIMAL_DATABASE_YAML } from '../fleet/fixtures.ts';
import { parseFleet } from '../fleet/load.ts';
import type { Fleet } from '../fleet/schema.ts';
import { decide, rememberVerdict } from '../health/verdict.ts';
import { fenceOldPrimary, fenceSingletons } from './fence.ts';

function fleetWith(fencing: string): Fleet {
  return parseFleet(
    `version: 1
name: f
machines:
  - { name: old, address: 10.9.0.1, roles: [app, db-primary, job] }
  - { name: heir, address: 10.9.0.2, roles: [app, db-replica] }
services:
  cron: { roles: [job], dir: /srv/cron, driver: { type: systemd, unit: cron-runner }, singleton: true }
${MINIMAL_DATABASE_YAML}${fencing}`,
    'f.yaml',
  );
}

function ctxFor(fleet: Fleet): ActionContext {
  // Every vantage point saw `old` down just now: no path will be tried.
  const down = { seen: 'down' as const, checks: [] };
  rememberVerdict(fleet, decide('old', '10.9.0.1', [{ vantage: 'operator', ...down }, { vantage: 'heir', ...down }]));
  return {
    fleet,
    remote: (m) => {
      throw new Error(`no path to ${m} may be tried`);
    },
    secret: async () => 'x',
    log: () => {},
  };
}

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'lifeboat-fence-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test("the fleet's fencing command powers the machine off: it runs with the machine named, and exit 0 fences", async (t) => {
  const out = join(tempDir(t), 'fenced');
  const ctx = ctxFor(fleetWith(`fencing: { command: 'echo "$LIFEBOAT_MACHINE $LIFEBOAT_ADDRESS" > ${out}' }\n`));
  const fence = fenceSingletons('old', ['cron'], false);
  await fence.apply(ctx);
  await fence.verify(ctx);
  assert.equal(readFileSync(out, 'utf8').trim(), 'old 10.9.0.1');
});

test('a fencing command that fails leaves the singletons waiting', async () => {
  const ctx = ctxFor(fleetWith(`fencing: { command: 'echo provider says no >&2; exit 3' }\n`));
  await assert.rejects(fenceSingletons('old', ['cron'], false).apply(ctx), /fencing command exited 3: provider says no/);
});

test("without a command, only a person's word lets the singletons start elsewhere", async () => {
  const ctx = ctxFor(fleetWith(''));
  await assert.rejects(fenceSingletons('old', ['cron'], false).apply(ctx), /old is NOT fenced.*--confirm-fenced old/s);
  const confirmed = fenceSingletons('old', ['cron'], true);
  await confirmed.apply(ctx);
  await confirmed.verify(ctx);
});

test('the database fence of a machine every vantage point sees down reports it isolated and goes on', async () => {
  const ctx = ctxFor(fleetWith(''));
  const fence = fenceOldPrimary('old', 'heir');
  await fence.apply(ctx);
  await fence.verify(ctx);
});

test('seen up by someone but reached by no path: the database fence fails, so nothing is promoted next to it', async () => {
  const fleet = fleetWith('');
  const ctx = ctxFor(fleet);
  rememberVerdict(fleet, decide('old', '10.9.0.1', [{ vantage: 'operator', seen: 'down', checks: [] }, { vantage: 'heir', seen: 'up', checks: [] }]));
  await assert.rejects(fenceOldPrimary('old', 'heir').apply(ctx), /old is not fenced: no path reaches it although the verdict is unreachable-from-some/);
});
