import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { History } from './history.ts';

test('history: the newest drills of a fleet, oldest first; the last restore test per store; other fleets apart', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lifeboat-drills-'));
  const h = History.open(join(dir, 'state.db'));
  try {
    for (let i = 0; i < 5; i++) h.record({ fleet: 'a', drill: 'primary-down', at: 1000 + i, passed: i !== 2, rtoS: 8 + i, lostWrites: i === 2 ? 3 : 0, auto: i % 2 === 0 });
    h.record({ fleet: 'b', drill: 'edge-down', at: 2000, passed: true, rtoS: null, lostWrites: 0, auto: false });
    const recent = h.recent('a', 3);
    assert.deepEqual(recent.map((e) => e.at), [1002, 1003, 1004]);
    assert.deepEqual(recent[0], { fleet: 'a', drill: 'primary-down', at: 1002, passed: false, rtoS: 10, lostWrites: 3, auto: true });
    assert.deepEqual(h.recent('b').map((e) => e.rtoS), [null]);
    h.recordRestoreTest({ fleet: 'a', store: 'vault', stamp: 's1', kind: 'physical', at: 10, ok: false, ms: 900 });
    h.recordRestoreTest({ fleet: 'a', store: 'vault', stamp: 's2', kind: 'logical', at: 20, ok: true, ms: 1200 });
    h.recordRestoreTest({ fleet: 'a', store: 'far', stamp: 's1', kind: 'physical', at: 15, ok: true, ms: 700 });
    const last = h.lastRestoreTests('a');
    assert.deepEqual([...last.keys()].sort(), ['far', 'vault']);
    assert.deepEqual(last.get('vault'), { fleet: 'a', store: 'vault', stamp: 's2', kind: 'logical', at: 20, ok: true, ms: 1200 }, 'the newest per store');
    assert.equal(h.lastRestoreTests('b').size, 0);
  } finally {
    h.close();
    await rm(dir, { recursive: true, force: true });
  }
});
