import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fanOut, Limiter } from './fanout.ts';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('fanOut respects the limit and returns results in input order', async () => {
  let active = 0;
  let peak = 0;
  const items = Array.from({ length: 12 }, (_, i) => i);
  const results = await fanOut(items, 3, async (n) => {
    active++;
    peak = Math.max(peak, active);
    // Later items finish first, so completion order differs from input order.
    await tick(5 + (12 - n) * 2);
    active--;
    return n * 10;
  });
  assert.equal(peak, 3);
  assert.deepEqual(
    results.map((r) => (r.ok ? r.value : 'err')),
    items.map((n) => n * 10),
  );
  assert.deepEqual(
    results.map((r) => r.index),
    items,
  );
});

test('fanOut settles every item, failures included, without rejecting', async () => {
  const results = await fanOut(['a', 'bad', 'c', 'throws'], 2, async (s) => {
    if (s === 'bad') throw new Error('bad item');
    if (s === 'throws') return Promise.reject(new TypeError('nope'));
    return s.toUpperCase();
  });
  assert.deepEqual(
    results.map((r) => (r.ok ? r.value : (r.error as Error).message)),
    ['A', 'bad item', 'C', 'nope'],
  );
  assert.equal(results[1]?.item, 'bad');
});

test('fanOut with a synchronous throw and with no items', async () => {
  const results = await fanOut([1], 4, (() => {
    throw new Error('sync');
  }) as unknown as (n: number) => Promise<number>);
  assert.equal(results[0]?.ok, false);
  assert.deepEqual(await fanOut([], 2, async () => 1), []);
});

test('fanOut rejects a limit below one', async () => {
  await assert.rejects(fanOut([1], 0, async () => 1), RangeError);
});

test('Limiter never lets more than its size run at once', async () => {
  const limiter = new Limiter(2);
  let active = 0;
  let peak = 0;
  await Promise.all(
    Array.from({ length: 9 }, (_, i) =>
      limiter.run(async () => {
        active++;
        peak = Math.max(peak, active);
        await tick(i % 3);
        active--;
      }),
    ),
  );
  assert.equal(peak, 2);
  assert.equal(active, 0);
});
