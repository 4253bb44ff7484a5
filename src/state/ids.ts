/**
 * Run ids: short, unique, and sorted by time when sorted as text, so `lifeboat runs` and
 * `ORDER BY id` agree and an operator can type a prefix.
 */
import { randomBytes } from 'node:crypto';

const TIME_CHARS = 9; // base-36 milliseconds: enough until the year 5188
let lastMs = 0;

/** e.g. `0mi2k9x1c-7f3a`: 9 chars of time, 4 random. Monotonic within one process. */
export function newRunId(now: number = Date.now()): string {
  // Two ids in the same millisecond must still sort in creation order.
  const ms = now <= lastMs ? lastMs + 1 : now;
  lastMs = ms;
  const time = ms.toString(36).padStart(TIME_CHARS, '0');
  const random = randomBytes(4).readUInt32BE(0).toString(36).padStart(7, '0').slice(-4);
  return `${time}-${random}`;
}
