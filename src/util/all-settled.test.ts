import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allSettled } from './all-settled.ts';

test('allSettled resolves like Promise.all, and rejects with the first failure only after every promise settled', async () => {
  assert.deepEqual(await allSettled([Promise.resolve(1), Promise.resolve('a')]), [1, 'a']);
  let slowDone = false;
  const slow = new Promise<number>((resolve) => setTimeout(() => { slowDone = true; resolve(2); }, 50));
  await assert.rejects(allSettled([Promise.reject(new Error('first')), slow, Promise.reject(new Error('second'))]), /first/);
  assert.equal(slowDone, true, 'the slow reading had finished before the refusal');
});
