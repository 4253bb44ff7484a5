/**
 * Point-in-time restore in the lab, run from the operator's host as a person would: after
 * `prepare` the on-site stores ship the primary's binary log; a copy is taken, rows are
 * written after it, and `backup restore --until GTID` brings back exactly the rows committed
 * up to that GTID. A store cut off from the primary catches up by itself once the link is
 * back; a file missing in the middle of the shipped log is a gap the replay names and stops
 * before.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Lab } from '../../src/lab/lab.ts';
import { canRunLab, EXAMPLE_FLEET, forceDown, randomLabId } from '../lab/helpers.ts';

const skip = canRunLab();
const CLI = 'cd /lifeboat && node bin/lifeboat.mjs';
const STATE = '--state /tmp/pitr-test-state.db';
const SHIPPED = '/var/lib/lifeboat/binlogs/primary';

describe('point-in-time restore from the shipped binary log', { skip }, () => {
  const id = randomLabId();
  let lab: Lab;

  before(async () => {
    lab = await Lab.up({ id, fleetFile: EXAMPLE_FLEET });
    const prepared = await lab.exec('ops', `${CLI} prepare --fleet ${lab.fleetFile} --yes ${STATE}`, { timeoutMs: 600_000 });
    assert.equal(prepared.code, 0, prepared.stdout + prepared.stderr);
    // Only this test's writes: the stand-ins' own jobs would interleave with them.
    // (lifeboat's own loops, the binlog shipping among them, keep running.)
    for (const host of ['primary', 'backup']) await lab.exec(host, "supervisorctl status | awk '{print $1}' | grep -v '^lifeboat-' | xargs -r supervisorctl stop");
    await lab.exec('primary', 'crontab -r 2>/dev/null; true');
  });
  after(() => forceDown(id));

  const ops = (command: string, timeoutMs = 600_000) => lab.exec('ops', `${CLI} ${command}`, { timeoutMs });
  const sql = async (host: string, text: string) => {
    const r = await lab.exec(host, 'mariadb -N -B speed', { stdin: text });
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim();
  };
  const ids = (host: string) => sql(host, 'SELECT COALESCE(GROUP_CONCAT(id ORDER BY id), \'\') FROM pitr;');
  /** Until every store's copy holds `gtid` (status --json says caught up at it). */
  const caughtUp = async (gtid: string, limitMs = 30_000) => {
    const deadline = Date.now() + limitMs;
    let last = '';
    while (Date.now() < deadline) {
      const r = await ops(`status --fleet ${lab.fleetFile} --json`, 60_000);
      const copies = (JSON.parse(r.stdout) as { binlogCopies: Array<{ store: string; ok: boolean; gtid?: string; detail: string }> }).binlogCopies;
      last = copies.map((c) => `${c.store}: ${c.detail}`).join('; ');
      if (copies.length > 0 && copies.every((c) => c.ok && c.gtid === gtid)) return;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    assert.fail(`the stores did not catch up with ${gtid}: ${last}`);
  };

  test('restore --until a GTID in the middle brings back exactly the rows committed up to it', async () => {
    await sql('primary', 'CREATE TABLE pitr (id INT PRIMARY KEY);');
    const backup = await ops(`backup run --fleet ${lab.fleetFile}`);
    assert.equal(backup.code, 0, backup.stdout + backup.stderr);
    const middle = await sql('primary', 'INSERT INTO pitr VALUES (1); INSERT INTO pitr VALUES (2); INSERT INTO pitr VALUES (3); SELECT @@gtid_binlog_pos;');
    const end = await sql('primary', 'INSERT INTO pitr VALUES (4); INSERT INTO pitr VALUES (5); SELECT @@gtid_binlog_pos;');
    assert.notEqual(middle, end);
    await caughtUp(end);
    // The replica is the machine restored into here: its replication stops with the old data.
    await sql('backup', 'STOP SLAVE; RESET SLAVE ALL;');
    const restored = await ops(`backup restore --fleet ${lab.fleetFile} --to backup --until ${middle} --yes`);
    assert.equal(restored.code, 0, restored.stdout + restored.stderr);
    assert.match(restored.stdout, new RegExp(`replayed primary's binary log from \\S+: GTID \\S+ → ${middle}`));
    assert.equal(await ids('backup'), '1,2,3', 'exactly the rows committed up to the GTID');
    assert.equal(await sql('backup', 'SELECT @@gtid_binlog_pos;'), middle);
  });

  test('a store cut off from the primary catches up by itself once the link is back', async () => {
    await lab.fault({ kind: 'partition', hosts: ['report', 'primary'] });
    const during = await sql('primary', 'INSERT INTO pitr VALUES (10); INSERT INTO pitr VALUES (11); SELECT @@gtid_binlog_pos;');
    const cut = await ops(`status --fleet ${lab.fleetFile} --json`, 60_000);
    const report = (JSON.parse(cut.stdout) as { binlogCopies: Array<{ store: string; ok: boolean; state: string; detail: string }> }).binlogCopies.find((c) => c.store === 'report');
    assert.equal(report?.ok, false, `a store that cannot have the newest transactions is not caught up: ${report?.detail}`);
    assert.equal(report?.state, 'behind', `behind, not unknown: ${report?.detail}`);
    await lab.heal({ kind: 'partition', hosts: ['report', 'primary'] });
    await caughtUp(during, 60_000);
  });

  test('the off-site store keeps the log sealed: no clear byte of it on its disk or in memory, and a restore from it alone replays every row', async () => {
    const canary = `lifeboat-canary-${Date.now()}`;
    await sql('primary', `CREATE TABLE IF NOT EXISTS canary (t VARCHAR(64)); INSERT INTO canary VALUES ('${canary}');`);
    const end = await sql('primary', 'INSERT INTO pitr VALUES (12); SELECT @@gtid_binlog_pos;');
    await caughtUp(end);
    // The round that sealed the bytes punches them out of memory right after.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const onsite = await lab.exec('report', `grep -rlaF ${canary} /var/lib/lifeboat/binlogs`);
    assert.equal(onsite.code, 0, 'an on-site store keeps the log in clear: the canary is there to be found');
    const offsite = await lab.exec('hk', `grep -rlaF ${canary} /var/lib/lifeboat/binlogs /run/lifeboat-binlogs`);
    assert.equal(offsite.code, 1, `the canary is nowhere on the off-site store (grep found nothing, and read everything): ${offsite.stdout}${offsite.stderr}`);
    const listed = await lab.exec('hk', `ls -1 ${SHIPPED}`);
    assert.match(listed.stdout, /\.sealed\n/, 'its copy is sealed');
    const restored = await ops(`backup restore --fleet ${lab.fleetFile} --to backup --from hk --replay --yes`);
    assert.equal(restored.code, 0, restored.stdout + restored.stderr);
    assert.match(restored.stdout, /sealed, opened on the operator's machine/);
    assert.equal((await ids('backup')).split(',').slice(-1)[0], '12', 'the last row committed came back from the sealed log');
    assert.equal(await sql('backup', `SELECT COUNT(*) FROM canary WHERE t = '${canary}';`), '1');
  });

  test('a file missing in the middle of the shipped log is a gap: named, and nothing after it replayed', async () => {
    // Three more files, a row in each.
    const before = await sql('primary', 'FLUSH BINARY LOGS; INSERT INTO pitr VALUES (20); SELECT @@gtid_binlog_pos;');
    await sql('primary', 'FLUSH BINARY LOGS; INSERT INTO pitr VALUES (21);');
    const last = await sql('primary', 'FLUSH BINARY LOGS; INSERT INTO pitr VALUES (22); SELECT @@gtid_binlog_pos;');
    await caughtUp(last);
    const files = (await lab.exec('report', `ls -1 ${SHIPPED}`)).stdout.trim().split('\n');
    const missing = files.at(-2)!;
    // Every store keeps it, the off-site one sealed (`<file>.sealed` and what the loop notes beside it).
    for (const store of ['backup', 'report', 'hk']) await lab.exec(store, `rm -f ${SHIPPED}/${missing} ${SHIPPED}/${missing}.*`);
    const restored = await ops(`backup restore --fleet ${lab.fleetFile} --to backup --replay --yes`);
    assert.equal(restored.code, 0, restored.stdout + restored.stderr);
    assert.match(restored.stdout, new RegExp(`stopped at a gap: files \\S+ → \\S+: 1 file\\(s\\) missing`));
    const rows = (await ids('backup')).split(',');
    assert.ok(rows.includes('20'), `the row before the gap is there: ${rows.join(',')}`);
    assert.ok(!rows.includes('21') && !rows.includes('22'), `nothing at or after the gap was replayed: ${rows.join(',')}`);
    assert.ok(before !== last);
  });
});
