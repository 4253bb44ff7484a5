/**
 * Backups end to end in the lab, run from the operator's host over SSH as a person would:
 * after `prepare` the copy comes from the replica, reaches the three stores (hk encrypted),
 * `backup list` shows them verified; then the newest copy is damaged on two stores, `backup
 * verify` flags both and its restore tests pass, and `backup restore --to primary` brings the
 * primary back from the one good (off-site) copy through the lab's own way of running mariadbd.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Lab } from '../../src/lab/lab.ts';
import { canRunLab, EXAMPLE_FLEET, forceDown, randomLabId } from '../lab/helpers.ts';

const skip = canRunLab();
const CLI = 'cd /lifeboat && node bin/lifeboat.mjs';
const STATE = '--state /tmp/backup-test-state.db';
const DUMPS = '/shell/sql_backup';

describe('lifeboat backup in the lab', { skip }, () => {
  const id = randomLabId();
  let lab: Lab;

  before(async () => {
    lab = await Lab.up({ id, fleetFile: EXAMPLE_FLEET });
  });
  after(() => forceDown(id));

  const ops = (command: string, timeoutMs = 600_000) => lab.exec('ops', command, { timeoutMs });
  /** The CLI's own words in the TAP output, for whoever reads the run. */
  const show = (what: string, r: { stdout: string; ms: number }) =>
    process.stdout.write(`${what} (${(r.ms / 1000).toFixed(1)} s):\n${r.stdout.trimEnd().split('\n').map((l) => `  ${l}`).join('\n')}\n`);
  const primarySql = (sql: string) => lab.exec('primary', `mariadb -N -B speed`, { stdin: sql });

  test('run, list, damage two stores, verify flags them, restore the primary from the good copy', async () => {
    const prepared = await ops(`${CLI} prepare --fleet ${lab.fleetFile} --yes ${STATE}`);
    assert.equal(prepared.code, 0, prepared.stdout + prepared.stderr);
    // The runbook's situation: apps stopped, nothing writes while the database comes back.
    for (const host of ['primary', 'backup']) await lab.exec(host, 'supervisorctl stop all');
    await primarySql("INSERT IGNORE INTO user_logs (user_id, datestr, ip) VALUES (1, '2026-11-24', '198.51.100.9');");
    const [users] = (await primarySql('SELECT COUNT(*) FROM users;')).stdout.trim().split('\n');

    const run = await ops(`${CLI} backup run --fleet ${lab.fleetFile}`);
    show('backup run', run);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /from backup \(db-replica\)/);
    const list = await ops(`${CLI} backup list --fleet ${lab.fleetFile}`, 120_000);
    show('backup list', list);
    assert.equal(list.code, 0, list.stdout + list.stderr);
    for (const store of ['backup', 'report', 'hk']) assert.match(list.stdout, new RegExp(`^${store} .* yes`, 'm'));
    assert.match(list.stdout, /^hk .*off-site, encrypted/m);

    const stamp = (await lab.exec('backup', `ls -1 ${DUMPS} | tail -n 1`)).stdout.trim();
    const flip = `f=$(ls ${DUMPS}/${stamp}/*.physical.tar.zst); n=$(stat -c %s "$f"); ` +
      `printf '\\377' | dd of="$f" bs=1 seek=$((n / 2)) conv=notrunc status=none`;
    assert.equal((await lab.exec('backup', flip)).code, 0);
    assert.equal((await lab.exec('report', `f=$(ls ${DUMPS}/${stamp}/*.physical.tar.zst); truncate -s 1000 "$f"`)).code, 0);

    const verify = await ops(`${CLI} backup verify --fleet ${lab.fleetFile}`);
    show('backup verify', verify);
    assert.equal(verify.code, 1, verify.stdout + verify.stderr);
    assert.match(verify.stdout, new RegExp(`^BAD backup +${stamp} +(corrupt|truncated)`, 'm'));
    assert.match(verify.stdout, new RegExp(`^BAD report +${stamp} +truncated`, 'm'));
    assert.match(verify.stdout, new RegExp(`^ok  hk +${stamp} +good`, 'm'));
    assert.match(verify.stdout, new RegExp(`^ok  restore test physical ${stamp} from hk`, 'm'));
    assert.match(verify.stdout, new RegExp(`^ok  restore test logical +${stamp}`, 'm'));

    const restore = await ops(`${CLI} backup restore --fleet ${lab.fleetFile} --to primary --kind physical --yes`);
    // The old data folder is kept beside /var/lib/mysql for undo; in the lab that is the
    // machine's own /var/lib, so the test removes exactly the folder the restore named.
    const aside = /previous data kept in (\/var\/lib\/mysql\.lifeboat-before-[A-Za-z0-9-]+)/.exec(restore.stdout)?.[1];
    if (aside) await lab.exec('primary', `rm -rf -- '${aside}'`);
    show('backup restore --to primary', restore);
    assert.equal(restore.code, 0, restore.stdout + restore.stderr);
    assert.ok(aside, 'the restore says where the previous data went');
    assert.match(restore.stdout, new RegExp(`newest good copy: physical ${stamp} on hk \\(encrypted\\)`));
    assert.match(restore.stdout, /skipped backup:/);
    assert.match(restore.stdout, /skipped report:/);
    assert.match(restore.stdout, /row counts match the manifest/);
    const [after] = (await primarySql('SELECT COUNT(*) FROM users;')).stdout.trim().split('\n');
    assert.equal(after, users);
    const logs = await primarySql('SELECT COUNT(*) FROM user_logs;');
    assert.equal(logs.code, 0);
  });
});
