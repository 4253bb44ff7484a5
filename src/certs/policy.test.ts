import assert from 'node:assert/strict';
import { test } from 'node:test';
import { retryAfter, whyIssue, type HeldCertificate } from './policy.ts';

const DAY = 86_400_000;
const now = new Date('2026-12-02T00:00:00Z');
const held = (names: string[], daysLeft: number): HeldCertificate => ({ names, notBefore: new Date(now.getTime() - DAY), notAfter: new Date(now.getTime() + daysLeft * DAY), issuer: 'CN=test' });

test('a held certificate serves while it covers every name and has more than 30 days left', () => {
  assert.equal(whyIssue(held(['a.example', 'b.example'], 60), ['b.example', 'A.example'], now), undefined);
  assert.equal(whyIssue(undefined, ['a.example'], now), 'no certificate yet');
  assert.match(whyIssue(held(['a.example'], 60), ['a.example', 'c.example'], now)!, /does not cover c\.example/);
  assert.match(whyIssue(held(['a.example'], 30), ['a.example'], now)!, /expires in 30 day/);
  assert.match(whyIssue(held(['a.example'], -1), ['a.example'], now)!, /expired/);
});

test('five failed validations within the hour make the name wait until the oldest of them is an hour old', () => {
  const min = 60_000;
  const t = now.getTime();
  assert.equal(retryAfter([t - 50 * min, t - 40 * min, t - 30 * min, t - 20 * min], now), undefined, 'four: another try is allowed');
  assert.deepEqual(retryAfter([t - 50 * min, t - 40 * min, t - 30 * min, t - 20 * min, t - 10 * min], now), new Date(t + 10 * min));
  assert.equal(retryAfter([t - 70 * min, t - 40 * min, t - 30 * min, t - 20 * min, t - 10 * min], now), undefined, 'one of them is older than the hour');
});
