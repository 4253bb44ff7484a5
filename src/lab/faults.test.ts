import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LabError } from './errors.ts';
import { describeFault, sameFault } from './fault-kinds.ts';
import { FAULT_TABLE, parseFault, switchRuleset } from './faults.ts';

const addresses: Record<string, string> = { primary: '198.51.100.11', backup: '198.51.100.12', 'edge-1': '198.51.100.10' };
const lab = {
  host: (name: string) => {
    const address = addresses[name];
    if (!address) throw new LabError('unknown-host', name);
    return { name, address } as never;
  },
};

test('switch rules: a partition drops both directions between every pair, nothing else', () => {
  const rules = switchRuleset(lab, [{ kind: 'partition', hosts: ['primary', 'backup'] }], '198.51.100.4');
  assert.match(rules, /ip saddr 198\.51\.100\.11 ip daddr 198\.51\.100\.12 drop/);
  assert.match(rules, /ip saddr 198\.51\.100\.12 ip daddr 198\.51\.100\.11 drop/);
  assert.equal(rules.match(/ drop/g)?.length, 2);
  // Replaces the whole table atomically: declared, deleted, declared again with the rules.
  assert.ok(rules.startsWith(`table bridge ${FAULT_TABLE}\ndelete table bridge ${FAULT_TABLE}\n`));
});

test('switch rules: ip-blocked is between the client and the host; port-blocked both ways on the port', () => {
  const rules = switchRuleset(
    lab,
    [
      { kind: 'ip-blocked', host: 'edge-1' },
      { kind: 'port-blocked', host: 'primary', port: 3306 },
      { kind: 'disk-full', host: 'backup' },
    ],
    '198.51.100.4',
  );
  assert.match(rules, /ip saddr 198\.51\.100\.4 ip daddr 198\.51\.100\.10 drop/);
  assert.match(rules, /ip daddr 198\.51\.100\.11 tcp dport 3306 drop/);
  assert.match(rules, /ip saddr 198\.51\.100\.11 tcp sport 3306 drop/);
  assert.equal(rules.match(/ drop/g)?.length, 4);
});

test('no blocking fault: an empty chain with policy accept', () => {
  const rules = switchRuleset(lab, [], '198.51.100.4');
  assert.doesNotMatch(rules, / drop/);
  assert.match(rules, /policy accept/);
});

test('parseFault reads the CLI arguments of every kind and refuses bad ones', () => {
  assert.deepEqual(parseFault('machine-down', ['primary']), { kind: 'machine-down', host: 'primary' });
  assert.deepEqual(parseFault('partition', ['a', 'b', 'c']), { kind: 'partition', hosts: ['a', 'b', 'c'] });
  assert.deepEqual(parseFault('port-blocked', ['primary', '3306']), { kind: 'port-blocked', host: 'primary', port: 3306 });
  assert.deepEqual(parseFault('service-crashed', ['primary', 'go-api']), { kind: 'service-crashed', host: 'primary', program: 'go-api' });
  assert.deepEqual(parseFault('domain-blocked', ['x.example']), { kind: 'domain-blocked', domain: 'x.example' });
  for (const [kind, args] of [['partition', ['a']], ['machine-down', []], ['port-blocked', ['a']], ['flood', ['a']]] as const) {
    assert.throws(() => parseFault(kind, args), (e: unknown) => e instanceof LabError && e.code === 'bad-fault');
  }
});

test('a partition is the same fault whatever the order of its hosts', () => {
  assert.ok(sameFault({ kind: 'partition', hosts: ['b', 'a'] }, { kind: 'partition', hosts: ['a', 'b'] }));
  assert.equal(describeFault({ kind: 'port-blocked', host: 'primary', port: 80 }), 'port-blocked primary 80');
});
