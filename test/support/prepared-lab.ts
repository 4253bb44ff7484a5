/**
 * One prepared lab of a fleet for the suites of ONE test file (a file runs in a process of
 * its own, so nothing is shared across files): brought up and prepared from the ops host by
 * the first suite that asks, taken down when the file's tests end. The suites that share it
 * run in the file's order; each must leave the lab as the ones after it expect (those that
 * change nothing first, the one that fails the primary over last).
 */
import { after } from 'node:test';
import assert from 'node:assert/strict';
import { Lab } from '../../src/lab/lab.ts';
import { EXAMPLE_FLEET, forceDown, randomLabId } from '../lab/helpers.ts';

/** The operator's state file inside the ops host, for every suite on the shared lab. */
export const SHARED_STATE = '/tmp/lb.db';

const labs = new Map<string, { id: string; lab: Promise<Lab> }>();

// Registered when this module is loaded, at the file's root (a hook registered from inside a
// suite's `before` would belong to that suite and run when it ends): after the last suite.
after(async () => {
  for (const { id } of labs.values()) await forceDown(id);
});

export function preparedLab(fleetFile = EXAMPLE_FLEET): Promise<Lab> {
  let entry = labs.get(fleetFile);
  if (!entry) {
    const id = randomLabId();
    entry = { id, lab: bringUp(id, fleetFile) };
    labs.set(fleetFile, entry);
  }
  return entry.lab;
}

async function bringUp(id: string, fleetFile: string): Promise<Lab> {
  const t0 = performance.now();
  const lab = await Lab.up({ id, fleetFile });
  const t1 = performance.now();
  const prepared = await lab.exec('ops', `cd /lifeboat && node bin/lifeboat.mjs prepare --fleet ${lab.operatorFleetFile} --yes --state ${SHARED_STATE}`, { timeoutMs: 300_000 });
  assert.equal(prepared.code, 0, `--- stdout\n${prepared.stdout}\n--- stderr\n${prepared.stderr}`);
  process.stdout.write(`# shared lab ${id}: up ${((t1 - t0) / 1000).toFixed(1)} s, prepare ${((performance.now() - t1) / 1000).toFixed(1)} s\n`);
  return lab;
}
