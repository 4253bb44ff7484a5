import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DrillHistory } from './drill-history.ts';

test('drill history: the newest of a fleet, oldest first; other fleets apart', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lifeboat-drills-'));
  const h = DrillHistory.open(join(dir, 'state.db'));
  try {
    for (let i = 0; i < 5; i++) h.record({ fleet: 'a', drill: 'primary-down', at: 1000 + i, passed: i !== 2, rtoS: 8 + i, lostWrites: i === 2 ? 3 : 0, auto: i % 2 === 0 });
    h.record({ fleet: 'b', drill: 'edge-down', at: 2000, passed: true, rtoS: null, lostWrites: 0, auto: false });
    const recent = h.recent('a', 3);
    assert.deepEqual(recent.map((e) => e.at), [1002, 1003, 1004]);
    assert.deepEqual(recent[0], { fleet: 'a', drill: 'primary-down', at: 1002, passed: false, rtoS: 10, lostWrites: 3, auto: true });
    assert.deepEqual(h.recent('b').map((e) => e.rtoS), [null]);
  } finally {
    h.close();
    await rm(dir, { recursive: true, force: true });
  }
});
