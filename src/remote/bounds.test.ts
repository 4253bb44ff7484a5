import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BoundedOutput, within } from './bounds.ts';

test('bounded output keeps the head of stdout and the tail of stderr, and counts what it dropped', () => {
  const head = new BoundedOutput(5, 'head');
  head.push(Buffer.from('abc'));
  head.push(Buffer.from('defgh'));
  assert.equal(head.toString(), 'abcde');
  assert.equal(head.dropped, 3);
  const tail = new BoundedOutput(5, 'tail');
  for (const part of ['abc', 'defgh', 'ij']) tail.push(Buffer.from(part));
  assert.equal(tail.toString(), '[… 5 earlier bytes not kept]\nfghij');
  assert.equal(tail.dropped, 5);
});

test('within: a promise that does not settle in time is given up with the error named', async () => {
  await assert.rejects(within(new Promise(() => undefined), 20, () => new Error('gave up')), /gave up/);
  assert.equal(await within(Promise.resolve(7), 1000, () => new Error('no')), 7);
});
