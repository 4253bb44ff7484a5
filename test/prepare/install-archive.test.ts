/**
 * Installation archives with real tar, sha256sum and files on disk: every store gets the
 * archive of each other machine (off-site stores an encrypted one), data folders are left
 * out, an unchanged machine gives the same archive, and a changed one a new LATEST.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fleetSchema } from '../../src/fleet/schema.ts';
import { openFile } from '../../src/util/seal.ts';
import { prepareReport } from '../../src/prepare/report.ts';
import { prepareScenario } from '../../src/prepare/scenario.ts';
import { runRecovery } from '../../src/recovery/engine.ts';
import { Journal } from '../../src/recovery/journal.ts';
import { SECRETS, tempDir, testContext } from './support.ts';

const run = promisify(execFile);
let tmp: Awaited<ReturnType<typeof tempDir>>;

before(async () => {
  tmp = await tempDir('lifeboat-prepare-install-');
});
after(async () => {
  await tmp?.remove();
});

test('archives installation files on every other store, encrypted off-site, and only again when they change', async () => {
  const app = join(tmp.dir, 'wwwroot', 'go', 'go-upload');
  await mkdir(join(app, 'uploads'), { recursive: true });
  await writeFile(join(app, 'config.yaml'), 'database: {}\n');
  await writeFile(join(app, 'uploads', 'photo.jpg'), 'user data');
  SECRETS['env:BACKUP_KEY'] = 'k3y-for-offsite';
  const installDir = join(tmp.dir, 'stores');
  const fleet = fleetSchema.parse({
    version: 1, name: 'install-test',
    machines: [
      { name: 'primary', address: '127.0.0.1', roles: ['upload'] },
      { name: 'backup', address: '127.0.0.1', roles: ['backup-store'] },
      { name: 'hk', address: '127.0.0.1', roles: ['backup-store'], offsite: true },
    ],
    services: { 'go-upload': { roles: ['upload'], dir: app, dataDirs: [join(app, 'uploads')] } },
    backups: { stores: ['backup', 'hk'], installDir, encryptionKey: 'env:BACKUP_KEY' },
    crontabs: { upload: [{ schedule: '* * * * *', command: 'python3 /shell/monitor.py' }] },
  });
  const scenario = prepareScenario({ stateDir: join(tmp.dir, 'state'), archiveDir: (store, root, source) => join(root, store, source) });
  const journal = Journal.open(join(tmp.dir, 'state.db'));
  const prepare = () => runRecovery({ scenario, input: { failed: '', parts: ['install'] }, ctx: testContext(fleet), mode: 'auto', journal });
  try {
    // Every machine's archive lands on the stores other than itself; the three "machines"
    // share this disk, so each store gets a folder of its own.
    const first = await prepare();
    assert.equal(first.outcome, 'recovered', first.error ?? '');
    const dir = join(installDir, 'backup', 'primary');
    const offsite = join(installDir, 'hk', 'primary');
    const clear = (await readFile(join(dir, 'LATEST'), 'utf8')).trim();
    assert.match(clear, /^install-primary-[0-9a-f]{16}\.tar\.gz$/);
    const sealed = (await readFile(join(offsite, 'LATEST'), 'utf8')).trim();
    assert.equal(sealed, `${clear}.enc`);
    assert.match((await readdir(join(installDir, 'hk', 'backup'))).join(' '), /install-backup-/, "backup's own files go to hk");
    const listing = (await run('tar', ['-tzf', join(dir, clear)])).stdout;
    assert.match(listing, /go-upload\/config\.yaml/);
    assert.match(listing, /state\/install\/fleet-crontab-primary/);
    assert.doesNotMatch(listing, /photo\.jpg/, 'upload files are not installation files');
    await assert.rejects(run('tar', ['-tzf', join(offsite, sealed)]), 'the off-site copy is not a readable tar');
    await openFile(join(offsite, sealed), join(tmp.dir, 'opened.tar.gz'), 'k3y-for-offsite');
    assert.match((await run('tar', ['-tzf', join(tmp.dir, 'opened.tar.gz')])).stdout, /go-upload\/config\.yaml/);
    await run('sha256sum', ['--status', '-c', `${clear}.sha256`], { cwd: dir });
    // Configs and crontabs hold secrets: every archive and its checksum readable by its owner only.
    for (const [folder, name] of [[dir, clear], [dir, `${clear}.sha256`], [offsite, sealed]] as const) {
      assert.equal((await stat(join(folder, name))).mode & 0o777, 0o600, `${name}`);
    }

    const again = await prepare();
    assert.equal(again.outcome, 'recovered', again.error ?? '');
    assert.deepEqual(prepareReport(again).changed, []);

    await writeFile(join(app, 'config.yaml'), 'database: {changed: true}\n');
    await writeFile(join(app, 'uploads', 'photo2.jpg'), 'more user data');
    const changed = await prepare();
    assert.equal(changed.outcome, 'recovered', changed.error ?? '');
    assert.deepEqual(prepareReport(changed).changed.filter((t) => t.includes('primary')), ["Archive primary's installation files on the backup stores"]);
    const newClear = (await readdir(dir)).filter((f) => /^install-primary-[0-9a-f]{16}\.tar\.gz$/.test(f));
    assert.equal(newClear.length, 2, 'the previous archive is kept');
  } finally {
    journal.close();
  }
});
