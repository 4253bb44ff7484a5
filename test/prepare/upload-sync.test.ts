/**
 * Upload sync against a real sshd and a real supervisord: prepare makes a key pair on the
 * source, confines it on the target with rrsync, pins the target's host key, and keeps an
 * rsync loop running; files written on the source appear on the target within the interval.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runRecovery } from '../../src/recovery/engine.ts';
import { Journal } from '../../src/recovery/journal.ts';
import { prepareReport } from '../../src/prepare/report.ts';
import { prepareScenario } from '../../src/prepare/scenario.ts';
import { stopChild, waitFor } from '../support/mariadb.ts';
import { startSshd, type Sshd } from '../support/sshd.ts';
import { PRIMARY, tempDir, testContext, testFleet } from './support.ts';

const run = promisify(execFile);
let sshd: Sshd | undefined;
let supervisord: ChildProcess | undefined;
let tmp: Awaited<ReturnType<typeof tempDir>>;

before(async () => {
  tmp = await tempDir('lifeboat-prepare-sync-');
  sshd = await startSshd();
  await mkdir(join(tmp.dir, 'conf.d'));
  await writeFile(join(tmp.dir, 'supervisord.conf'), [
    '[unix_http_server]', `file=${tmp.dir}/supervisor.sock`, '',
    '[supervisord]', 'nodaemon=true', 'user=root', `logfile=${tmp.dir}/supervisord.log`, `pidfile=${tmp.dir}/supervisord.pid`, `childlogdir=${tmp.dir}`, '',
    '[rpcinterface:supervisor]', 'supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface', '',
    '[supervisorctl]', `serverurl=unix://${tmp.dir}/supervisor.sock`, '',
    '[include]', `files = ${tmp.dir}/conf.d/*.conf`, '',
  ].join('\n'));
  supervisord = spawn('supervisord', ['-n', '-c', join(tmp.dir, 'supervisord.conf')], { stdio: 'ignore' });
  await waitFor(() => run('supervisorctl', ['-c', join(tmp.dir, 'supervisord.conf'), 'pid']), 15_000);
});

after(async () => {
  if (supervisord) await stopChild(supervisord, 15_000);
  await sshd?.stop();
  await tmp?.remove();
});

test('uploads follow to the target within the interval through a confined key; a second prepare changes nothing', async () => {
  const source = join(tmp.dir, 'src', 'uploads');
  const target = join(tmp.dir, 'dst', 'uploads');
  await mkdir(source, { recursive: true });
  await mkdir(target, { recursive: true });
  await writeFile(join(source, 'before.jpg'), 'uploaded before prepare');
  const fleet = testFleet({
    sshPort: sshd!.port,
    backupAddress: PRIMARY,
    services: { 'go-upload': { roles: ['upload'], dir: join(tmp.dir, 'src'), dataDirs: [source], driver: { type: 'supervisor' } } },
  });
  const scenario = prepareScenario({
    stateDir: join(tmp.dir, 'state'),
    uploadSyncIntervalS: 1,
    settleMs: 15_000,
    authorizedKeys: () => join(sshd!.dir, 'authorized_keys'),
    targetHostKey: () => join(sshd!.dir, 'host_ed25519_1.pub'),
    uploadTargetPath: (p) => p.replace(`${tmp.dir}/src/`, `${tmp.dir}/dst/`),
    keeper: { supervisorConfDir: join(tmp.dir, 'conf.d'), supervisorctl: `supervisorctl -c ${join(tmp.dir, 'supervisord.conf')}`, systemdDir: '/nonexistent' },
  });
  const journal = Journal.open(join(tmp.dir, 'state.db'));
  try {
    const plan = await runRecovery({ scenario, input: { failed: '', parts: ['uploads'] }, ctx: testContext(fleet), mode: 'plan', journal });
    assert.equal(plan.outcome, 'planned', plan.error ?? '');
    assert.ok(!existsSync(join(tmp.dir, 'state')), 'plan wrote nothing');

    const first = await runRecovery({ scenario, input: { failed: '', parts: ['uploads'] }, ctx: testContext(fleet), mode: 'auto', journal });
    assert.equal(first.outcome, 'recovered', first.error ?? '');
    assert.equal(await readFile(join(target, 'before.jpg'), 'utf8'), 'uploaded before prepare');

    const started = Date.now();
    await writeFile(join(source, 'after.jpg'), 'uploaded after prepare');
    await waitFor(async () => assert.equal(await readFile(join(target, 'after.jpg'), 'utf8'), 'uploaded after prepare'), 5000);
    const lag = Date.now() - started;
    assert.ok(lag < 3000, `appeared after ${lag} ms, interval 1 s`);

    const authorized = await readFile(join(sshd!.dir, 'authorized_keys'), 'utf8');
    assert.match(authorized, /^restrict,from="127\.0\.0\.1",command="\/usr\/bin\/rrsync -wo -no-del -munge [^"]+\/dst\/uploads" ssh-ed25519 \S+ lifeboat-sync:primary:go-upload$/m);
    assert.match(authorized, /lifeboat-test-client/, 'the existing key is kept');
    // The sync key runs nothing but rrsync.
    const key = join(tmp.dir, 'state', 'sync', 'id_ed25519');
    const shell = await run('ssh', ['-i', key, '-o', 'IdentitiesOnly=yes', '-o', `UserKnownHostsFile=${sshd!.knownHostsFile}`, '-o', 'BatchMode=yes',
      '-p', String(sshd!.port), 'root@127.0.0.1', 'touch /tmp/lifeboat-should-not-exist'], { timeout: 10_000 }).then(() => 0, (e: { code?: number }) => e.code ?? -1);
    assert.notEqual(shell, 0);
    assert.ok(!existsSync('/tmp/lifeboat-should-not-exist'));

    const again = await runRecovery({ scenario, input: { failed: '', parts: ['uploads'] }, ctx: testContext(fleet), mode: 'auto', journal });
    assert.equal(again.outcome, 'recovered', again.error ?? '');
    assert.deepEqual(prepareReport(again).changed, []);
  } finally {
    journal.close();
  }
});
