import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { benchCast, median, ratio, renderFailoverBench, type FailoverBenchResult } from './index.ts';
import { errorLines, mhaConfig, patchMhaModule } from './mha.ts';
import { sentinelConfig, sentinelFields } from './sentinel.ts';
import { parseStandbyWatch } from './standby-watch.ts';
import { drillNamed } from '../../src/lab/drill/drills.ts';
import { withLabSpares } from '../../src/lab/drill/run-drill.ts';
import { loadFleet } from '../../src/fleet/load.ts';

test('median of the measured runs, a run that measured nothing left out; ratio peer ÷ lifeboat', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, null, 2, 3]), 2.5);
  assert.equal(median([null, null]), null);
  assert.equal(ratio(18.3, 6.1), 3);
  assert.equal(ratio(3.1, 6.2), 0.5);
  assert.equal(ratio(null, 6), null);
  assert.equal(ratio(5, 0), null);
});

test('the stopwatch output: the state before the fault and the first change of each', () => {
  const t = parseStandbyWatch('before-db 1\nbefore-redis slave\nredis 1796120453275\ndb 1796120454297\n');
  assert.deepEqual(t, { databaseWritableAt: 1796120454297, redisPromotedAt: 1796120453275, before: { readOnly: '1', redisRole: 'slave' } });
  // Nothing changed within the limit: no time, never a zero.
  assert.deepEqual(parseStandbyWatch('before-db 1\n'), { databaseWritableAt: null, redisPromotedAt: null, before: { readOnly: '1', redisRole: '' } });
});

test("MHA's configuration: both servers candidates, the secondary check over the given routes", () => {
  const text = mhaConfig({ adminUser: 'root', adminPassword: 'pw1', replicationUser: 'repl', replicationPassword: 'pw2', primary: '198.51.100.12', standby: '198.51.100.13', secondaryRoutes: ['198.51.100.10', '198.51.100.11'], port: 3306, binlogDir: '/var/lib/mysql', pingIntervalS: 1 });
  assert.match(text, /^\[server default\]$/m);
  assert.match(text, /^secondary_check_script=masterha_secondary_check -s 198\.51\.100\.10 -s 198\.51\.100\.11$/m);
  assert.match(text, /^\[server1\]\nhostname=198\.51\.100\.12\nport=3306\ncandidate_master=1$/m);
  assert.match(text, /^\[server2\]\nhostname=198\.51\.100\.13\nport=3306\ncandidate_master=1$/m);
  assert.match(text, /^ping_interval=1$/m);
  // A credential MHA would hand to a shell is refused, not written.
  assert.throws(() => mhaConfig({ adminUser: 'root', adminPassword: 'a b;rm', replicationUser: 'repl', replicationPassword: 'x', primary: 'a', standby: 'b', secondaryRoutes: [], port: 1, binlogDir: '/x', pingIntervalS: 1 }), /credentials/);
});

test('the two upstream MHA workarounds: lexical warnings relaxed, super_read_only read as off; other modules untouched', () => {
  const module = "package MHA::X;\nuse strict;\nuse warnings FATAL => 'all';\nsub v { sprintf('%03d', 1, 2) }\nmy $q = \"SELECT \\@\\@global.super_read_only as Value\";\n";
  const patched = patchMhaModule(module);
  assert.ok(patched);
  assert.match(patched, /use warnings FATAL => 'all'; no warnings qw\(redundant missing\);/);
  assert.match(patched, /SELECT 0 as Value/);
  assert.equal(patchMhaModule('package MHA::Y;\nuse strict;\n'), null);
  const first = patchMhaModule(module, { superReadOnly: false })!;
  assert.match(first, /no warnings qw\(redundant missing\)/);
  assert.match(first, /super_read_only as Value/, 'the first workaround alone leaves the query');
});

test("the lines of MHA's check that say why it failed", () => {
  const out = [
    'Tue Dec  1 10:00:20 2026 - [info] MHA::MasterMonitor version 0.58.',
    'Tue Dec  1 10:00:21 2026 - [error][/usr/share/perl5/MHA/MasterMonitor.pm, ln427] Error happened on checking configurations. Redundant argument in sprintf at /usr/share/perl5/MHA/NodeUtil.pm line 195.',
    'Tue Dec  1 10:00:21 2026 - [error][/usr/share/perl5/MHA/MasterMonitor.pm, ln525] Error happened on monitoring servers.',
    '',
    'MySQL Replication Health is NOT OK!',
  ].join('\n');
  assert.equal(errorLines(out), '[error][/usr/share/perl5/MHA/MasterMonitor.pm, ln427] Error happened on checking configurations. Redundant argument in sprintf at /usr/share/perl5/MHA/NodeUtil.pm line 195.\nMySQL Replication Health is NOT OK!');
});

test('the installed MHA 0.58 modules hold what the workarounds replace', { skip: !existsSync('/usr/share/perl5/MHA/NodeUtil.pm') && 'mha4mysql-node is not installed' }, async () => {
  const node = await readFile('/usr/share/perl5/MHA/NodeUtil.pm', 'utf8');
  const slave = await readFile('/usr/share/perl5/MHA/SlaveUtil.pm', 'utf8');
  assert.notEqual(patchMhaModule(node), null);
  assert.match(patchMhaModule(slave) ?? '', /SELECT 0 as Value/);
});

test("Sentinel's configuration and its SENTINEL MASTER reply", () => {
  const text = sentinelConfig({ bind: '198.51.100.3', primary: '198.51.100.12', redisPort: 6379, quorum: 2, downAfterMs: 2000, password: 'secret1' });
  assert.match(text, /^sentinel monitor lifeboat-bench 198\.51\.100\.12 6379 2$/m);
  assert.match(text, /^sentinel down-after-milliseconds lifeboat-bench 2000$/m);
  assert.match(text, /^sentinel auth-pass lifeboat-bench secret1$/m);
  assert.doesNotMatch(sentinelConfig({ bind: 'a', primary: 'b', redisPort: 1, quorum: 2, downAfterMs: 1 }), /auth-pass/);
  assert.deepEqual(sentinelFields('name\nlifeboat-bench\nnum-slaves\n1\nnum-other-sentinels\n2\n'), { name: 'lifeboat-bench', 'num-slaves': '1', 'num-other-sentinels': '2' });
});

test('the bench casts any fleet by role: both example fleets, and a fleet without two other machines is refused', async () => {
  const spec = drillNamed('primary-down')!;
  for (const file of ['examples/go-speed/fleet.yaml', 'examples/shopfront/fleet.yaml']) {
    const fleet = withLabSpares(await loadFleet(file));
    const c = benchCast(fleet, spec.cast(fleet));
    assert.notEqual(c.primary, c.standby);
    assert.equal(c.witnesses.length, 2);
    assert.ok(!c.witnesses.includes(c.primary) && !c.witnesses.includes(c.standby));
  }
  const goSpeed = await loadFleet('examples/go-speed/fleet.yaml');
  const tiny = withLabSpares({ ...goSpeed, machines: goSpeed.machines.filter((m) => m.name === 'primary' || m.name === 'backup') });
  assert.throws(() => benchCast(tiny, spec.cast(tiny)), /two machines besides primary and backup; fleet go-speed has 0/);
});

test('the table shows each median with its runs, the ratio and every problem', () => {
  const r: FailoverBenchResult = {
    fleet: 'f',
    runs: 2,
    settings: { mhaPingIntervalS: 1, sentinelDownAfterMs: 2000, sentinelQuorum: 2, lifeboat: 'serve' },
    lifeboat: { runs: [{ databaseWritableS: 5, redisPromotedS: 5.1, firstGoodRequestS: 5.5, detectS: 4, lostWrites: 0, problems: [] }, { databaseWritableS: 7, redisPromotedS: null, firstGoodRequestS: 6.5, detectS: 4, lostWrites: 0, problems: ['x'] }], median: { databaseWritableS: 6, redisPromotedS: 5.1, firstGoodRequestS: 6 } },
    peers: { runs: [{ databaseWritableS: 18, redisPromotedS: 3, lostWrites: 0, problems: [] }, { databaseWritableS: 18, redisPromotedS: 3, lostWrites: 1, problems: [] }], median: { mhaDatabaseWritableS: 18, sentinelRedisPromotedS: 3 } },
    ratio: { database: 3, redis: 0.6 },
    mhaPrinted: { asPackaged: '[error][x] Redundant argument in sprintf at NodeUtil.pm line 195.', withFirstWorkaround: "execute failed: Unknown system variable 'super_read_only'" },
    notes: [],
  };
  const text = renderFailoverBench(r);
  assert.match(text, /\| new database primary writable \| 6\.00 s \(5\.00, 7\.00\) \| MHA 0\.58: 18\.00 s \(18\.00, 18\.00\) \| 3× \|/);
  assert.match(text, /\| Redis replica promoted \| 5\.10 s \(5\.10, —\)/);
  assert.match(text, /acknowledged writes lost: lifeboat 0, 0; MHA 0, 1/);
  assert.match(text, /problem: lifeboat run 2: x/);
  assert.match(text, /as Debian ships it \(masterha_check_repl\):\n  \[error\]\[x\] Redundant argument/);
  assert.match(text, /with the sprintf workaround alone:\n  execute failed: Unknown system variable 'super_read_only'/);
});
