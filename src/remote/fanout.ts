/**
 * Running the same step on many machines at once, with a ceiling: a fleet-wide check must not
 * open fifty SSH handshakes at the same moment on a two-core laptop, and one dead machine must
 * not hide the answers of the others.
 */

export type FanOutResult<T, R> =
  | { ok: true; item: T; index: number; value: R }
  | { ok: false; item: T; index: number; error: unknown };

/**
 * Calls `fn` for every item with at most `limit` calls in flight. Never rejects because of
 * `fn`: every item gets a settled result, in input order.
 */
export async function fanOut<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<Array<FanOutResult<T, R>>> {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`fanOut limit must be a positive integer, got ${limit}`);
  const results = new Array<FanOutResult<T, R>>(items.length);
  let next = 0;
  async function worker(): Promise<void> {
    while (next < items.length) {
      const index = next++;
      const item = items[index] as T;
      try {
        // `await` inside try also catches a synchronous throw of fn.
        results[index] = { ok: true, item, index, value: await fn(item, index) };
      } catch (error) {
        results[index] = { ok: false, item, index, error };
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** A counting semaphore: `run` waits for a free slot, so at most `size` tasks overlap. */
export class Limiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`Limiter size must be a positive integer, got ${size}`);
  }

  async run<R>(task: () => Promise<R>): Promise<R> {
    if (this.active >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await task();
    } finally {
      // Hand the slot straight to the next waiter so `active` never dips and lets a third in.
      const wake = this.waiting.shift();
      if (wake) wake();
      else this.active--;
    }
  }
}
