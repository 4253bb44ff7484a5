import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deadForS, watchSchema } from '../../fleet/schema.ts';
import { UsageError } from '../exit.ts';
import { settingsFrom } from './serve.ts';

const base = watchSchema.parse({ policy: { 'edge-down': 'auto' } });

test('serve: the command line overrides the fleet\'s watch settings, checked by the same schema', () => {
  const s = settingsFrom(base, { policy: ['primary-down=confirm'], interval: '2', deadRounds: '3' });
  assert.deepEqual(s.policy, { 'edge-down': 'auto', 'primary-down': 'confirm' });
  assert.equal(s.intervalS, 2);
  assert.equal(s.deadRounds, 3);
  assert.equal(deadForS(s), 4, 'by default a death must last the time its rounds take at the usual pace');
  assert.equal(deadForS(settingsFrom(base, { deadFor: '1.5' })), 1.5);
});

test('serve: an unknown scenario or policy, or a bad number, is bad input naming the flag, and nothing starts', () => {
  assert.throws(() => settingsFrom(base, { policy: ['primary-dwn=auto'] }), (e: unknown) => e instanceof UsageError && /did you mean `primary-down`/.test(e.message));
  assert.throws(() => settingsFrom(base, { policy: ['primary-down=yolo'] }), (e: unknown) => e instanceof UsageError && /unknown policy `yolo`/.test(e.message));
  assert.throws(() => settingsFrom(base, { policy: ['primary-down'] }), /expected SCENARIO=POLICY/);
  assert.throws(() => settingsFrom(base, { interval: '0.1' }), /--interval: /);
  assert.throws(() => settingsFrom(base, { deadRounds: 'x' }), /--dead-rounds: /);
  assert.throws(() => settingsFrom(base, { deadFor: '-1' }), /--dead-for: /);
  assert.throws(() => settingsFrom(base, { healthInterval: '1' }), /--health-interval: /);
  assert.equal(settingsFrom(base, { healthInterval: '7' }).health.intervalS, 7);
});
