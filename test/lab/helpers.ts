/** Shared by the lab tests: random lab ids, the example fleet, and a guaranteed teardown. */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Lab, repoDir } from '../../src/lab/lab.ts';

export const EXAMPLE_FLEET = join(repoDir(), 'examples', 'go-speed', 'fleet.yaml');

/** A short random id, so a test's lab never meets a developer's `lb0` or another test's. */
export function randomLabId(): string {
  return `t${randomBytes(4).toString('hex').slice(0, 6)}`;
}

export function canRunLab(): string | false {
  if (process.getuid?.() !== 0) return 'needs root';
  return false;
}

/** Tears the lab down whatever state it is in (used in `after`, so failures clean up too). */
export async function forceDown(id: string): Promise<void> {
  await Lab.down(id).catch((error: unknown) => {
    process.stderr.write(`lab ${id} teardown failed: ${String(error)}\n`);
  });
}
