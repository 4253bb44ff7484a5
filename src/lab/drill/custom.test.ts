import assert from 'node:assert/strict';
import { test } from 'node:test';
import { customOptions } from '../../cli/commands/drill.ts';
import { UsageError } from '../../cli/exit.ts';
import type { WatchEvent } from '../../control/watch.ts';
import { customReport, type CustomDrillOptions } from './custom.ts';

const flags = { fleet: 'fleet.yaml', rate: 20, observe: 60, auto: true };

test('drill custom: its flags are checked before any lab is built', () => {
  const bad = (over: Record<string, unknown>, pattern: RegExp) =>
    assert.throws(() => customOptions({ ...flags, ...over } as Parameters<typeof customOptions>[0]), (e: unknown) => e instanceof UsageError && pattern.test(e.message));
  bad({ auto: undefined, expect: 'none' }, /needs --auto/);
  bad({}, /needs --expect none or --expect SCENARIO/);
  bad({ expect: 'primary-dwn' }, /did you mean `primary-down`/);
  bad({ expect: 'none', fault: ['meltdown primary'] }, /--fault 'meltdown primary': unknown fault "meltdown"/);
  bad({ expect: 'none', fault: ['port-blocked primary'] }, /usage: lab fault port-blocked HOST PORT/);
  bad({ expect: 'none', verdict: ['ip-blokced'] }, /--verdict ip-blokced: unknown verdict/);
  bad({ expect: 'none', fault: ['link-down primary'], flap: 3, hold: 2 }, /choose one/);
  bad({ expect: 'none', flap: 3 }, /need a --fault/);
  bad({ expect: 'none', observe: 0 }, /--observe: expected seconds/);
  const ok = customOptions({ ...flags, expect: 'none', fault: ['partition ops primary', 'ip-blocked edge-1'], flap: 3, verdict: ['ip-blocked'] });
  assert.deepEqual(ok.faults, [{ kind: 'partition', hosts: ['ops', 'primary'] }, { kind: 'ip-blocked', host: 'edge-1' }]);
  assert.equal(ok.flapS, 3);
});

const at = (s: number) => new Date(1_000_000 + s * 1000).toISOString();
const options: CustomDrillOptions = { fleetFile: 'f', faults: [{ kind: 'link-down', host: 'primary' }], expect: 'none', observeS: 60, verdicts: ['flapping'] };

test('drill custom: the report counts every recovery the daemon started against the expectation', () => {
  const events: WatchEvent[] = [
    { at: at(-5), type: 'verdict', machine: 'primary', kind: 'alive', reason: 'before the fault' },
    { at: at(4), type: 'verdict', machine: 'primary', kind: 'dead', reason: 'down from all' },
    { at: at(9), type: 'flapping', machine: 'primary', detail: 'must stay dead 6 rounds' },
    { at: at(30), type: 'decision', scenario: 'primary-down', failed: 'primary', policy: 'auto', action: 'started', detail: '' },
    { at: at(41), type: 'recovery-finished', runId: 'r1', scenario: 'primary-down', outcome: 'recovered', seconds: 11 },
  ];
  const none = customReport(options, 'lab1', 1_000_000, events, [{ pushed: true }], []);
  assert.equal(none.ok, false);
  assert.deepEqual(none.recoveries, [{ scenario: 'primary-down', failed: 'primary', afterS: 30, runId: 'r1', outcome: 'recovered', seconds: 11 }]);
  assert.deepEqual(none.verdicts.map((v) => `${v.subject} ${v.kind}`), ['primary dead', 'primary flapping'], 'only verdicts after the fault');
  assert.match(none.problems.join(), /expected no recovery, the daemon started 1: primary-down --failed primary/);
  const expected = customReport({ ...options, expect: 'primary-down' }, 'lab1', 1_000_000, events, [], []);
  assert.equal(expected.ok, true, expected.problems.join());
  const quiet = customReport({ ...options, verdicts: ['ip-blocked'] }, 'lab1', 1_000_000, events.slice(0, 3), [], []);
  assert.deepEqual(quiet.problems, ['expected the verdict ip-blocked; the daemon reached dead, flapping']);
});
