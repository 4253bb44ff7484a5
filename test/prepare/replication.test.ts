/**
 * `prepare`'s database part against two real MariaDB servers: the replica is seeded from a
 * primary that keeps taking writes, replicates with GTID and semi-sync, is read-only, and a
 * second prepare changes nothing.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { runRecovery } from '../../src/recovery/engine.ts';
import { Journal } from '../../src/recovery/journal.ts';
import { prepareReport } from '../../src/prepare/report.ts';
import { prepareScenario } from '../../src/prepare/scenario.ts';
import { BACKUP, PRIMARY, SECRETS, connectAs, startMariadbPair, tempDir, testContext, testFleet } from './support.ts';

let pair: Awaited<ReturnType<typeof startMariadbPair>>;
let tmp: Awaited<ReturnType<typeof tempDir>>;
let journal: Journal;

before(async () => {
  tmp = await tempDir('lifeboat-prepare-db-');
  pair = await startMariadbPair();
  journal = Journal.open(join(tmp.dir, 'state.db'));
});

after(async () => {
  journal?.close();
  await pair?.stop();
  await tmp?.remove();
});

/** The replicated ordinary account, once it has reached the replica (bounded wait). */
async function waitForLogin(address: string, port: number): Promise<mysql.Connection> {
  for (let i = 0; ; i++) {
    try {
      return await mysql.createConnection({ host: address, port, user: 'app', password: 'apppw', connectTimeout: 2000 });
    } catch (error) {
      if (i >= 50) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Inserts rows on the primary until stopped; every insert acknowledged is counted. */
function writer(db: mysql.Connection) {
  let stop = false;
  let acknowledged = 0;
  const done = (async () => {
    // Bounded: stops when asked, and after 20 000 rows at most.
    for (let i = 0; !stop && i < 20_000; i++) {
      await db.query('INSERT INTO speed.events (note) VALUES (?)', [`row ${i}`]);
      acknowledged++;
    }
  })();
  return { stop: async () => { stop = true; await done; return acknowledged; } };
}

test('seeds the replica from a primary under writes, replicates with GTID and semi-sync, then changes nothing', async () => {
  const fleet = testFleet({ dbPort: pair.port });
  const dropIn = join(tmp.dir, 'primary-replication.cnf');
  const scenario = prepareScenario({ mariadbDropIn: (m) => join(tmp.dir, `${m}-replication.cnf`), settleMs: 20_000 });
  const primary = await connectAs(PRIMARY, pair.port);
  const backup = await connectAs(BACKUP, pair.port);
  try {
    await primary.query('CREATE DATABASE speed');
    await primary.query('CREATE TABLE speed.events (id INT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(64)) ENGINE=InnoDB');
    for (let i = 0; i < 50; i++) await primary.query('INSERT INTO speed.events (note) VALUES (?)', [`before ${i}`]);

    // A read-only "primary" (a demoted one the fleet file still names) is refused before any change.
    await primary.query('SET GLOBAL read_only = 1');
    const demoted = await runRecovery({ scenario, input: { failed: '' }, ctx: testContext(fleet), mode: 'auto', journal });
    await primary.query('SET GLOBAL read_only = 0');
    assert.equal(demoted.outcome, 'failed');
    assert.match(demoted.error ?? '', /primary is read-only/);
    assert.equal(demoted.steps.filter((s) => s.state === 'verified' && s.mutating).length, 0);

    // Data written on the backup itself is never replaced unasked.
    await backup.query('CREATE DATABASE speed');
    await backup.query('CREATE TABLE speed.local_only (id INT PRIMARY KEY) ENGINE=InnoDB');
    await backup.query('INSERT INTO speed.local_only VALUES (1)');
    const refused = await runRecovery({ scenario, input: { failed: '' }, ctx: testContext(fleet), mode: 'auto', journal });
    assert.equal(refused.outcome, 'failed');
    assert.match(refused.error ?? '', /written on backup itself.*--reseed/);
    const [[kept]] = await backup.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM speed.local_only');
    assert.equal(Number(kept!.n), 1);

    const load = writer(await connectAs(PRIMARY, pair.port));
    const log: string[] = [];
    const run = await runRecovery({ scenario, input: { failed: '', reseed: true }, ctx: testContext(fleet, log), mode: 'auto', journal });
    const written = await load.stop();
    assert.equal(run.outcome, 'recovered', run.error ?? '');
    assert.ok(written > 0, 'the writer wrote during the seed');
    const [gone] = await backup.query<mysql.RowDataPacket[]>("SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'speed' AND TABLE_NAME = 'local_only'");
    assert.equal(Number(gone[0]!.n), 0, "--reseed replaced the backup's schema with the primary's");
    assert.ok(prepareReport(run).changed.includes('Seed backup from primary and replicate with GTID'), JSON.stringify(prepareReport(run)));

    // Every acknowledged row reaches the replica, and the copies are identical.
    const deadline = Date.now() + 20_000;
    let counts: [number, number] = [0, 0];
    while (Date.now() < deadline) {
      const [[a], [b]] = await Promise.all([
        primary.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM speed.events').then(([r]) => r),
        backup.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM speed.events').then(([r]) => r),
      ]);
      counts = [Number(a!.n), Number(b!.n)];
      if (counts[0] === counts[1]) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(counts[0], 50 + written);
    assert.equal(counts[1], counts[0]);
    const [[sumA]] = await primary.query<mysql.RowDataPacket[]>('CHECKSUM TABLE speed.events');
    const [[sumB]] = await backup.query<mysql.RowDataPacket[]>('CHECKSUM TABLE speed.events');
    assert.equal(String(sumB!.Checksum), String(sumA!.Checksum));

    const [[ro]] = await backup.query<mysql.RowDataPacket[]>('SELECT @@read_only AS ro, @@rpl_semi_sync_slave_enabled AS slave');
    assert.equal(Number(ro!.ro), 1);
    assert.equal(Number(ro!.slave), 1);
    const [status] = await primary.query<mysql.RowDataPacket[]>("SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_master_%'");
    const byName = Object.fromEntries(status.map((r) => [String(r.Variable_name), String(r.Value)]));
    assert.equal(byName.Rpl_semi_sync_master_status, 'ON');
    assert.equal(byName.Rpl_semi_sync_master_clients, '1');
    // A commit on the primary is acknowledged by the replica (semi-sync counted it).
    const yesBefore = Number(byName.Rpl_semi_sync_master_yes_tx);
    await primary.query('INSERT INTO speed.events (note) VALUES (?)', ['acked']);
    const [[yes]] = await primary.query<mysql.RowDataPacket[]>("SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_master_yes_tx'");
    assert.equal(Number(yes!.Value), yesBefore + 1);
    assert.match(await readFile(dropIn, 'utf8'), /rpl_semi_sync_master_timeout = 5000/);
    assert.match(await readFile(join(tmp.dir, 'backup-replication.cnf'), 'utf8'), /read_only = ON/);

    // The replica refuses an ordinary account's writes.
    await primary.query("CREATE USER 'app'@'%' IDENTIFIED BY 'apppw'");
    await primary.query("GRANT ALL ON speed.* TO 'app'@'%'");
    const appOnBackup = await waitForLogin(BACKUP, pair.port);
    try {
      await assert.rejects(appOnBackup.query('INSERT INTO speed.events (note) VALUES (?)', ['refused']), (e: { errno?: number }) => e.errno === 1290);
    } finally {
      await appOnBackup.end();
    }

    // Second run: plans nothing, changes nothing, says so.
    const plan = await runRecovery({ scenario, input: { failed: '' }, ctx: testContext(fleet), mode: 'plan', journal });
    assert.deepEqual(prepareReport(plan).changed, [], JSON.stringify(plan.steps.map((s) => s.changes)));
    const again = await runRecovery({ scenario, input: { failed: '' }, ctx: testContext(fleet), mode: 'auto', journal });
    assert.equal(again.outcome, 'recovered', again.error ?? '');
    assert.deepEqual(prepareReport(again).changed, []);

    // No secret reached the journal (plans, outputs, errors), WAL included.
    for (const file of ['state.db', 'state.db-wal']) {
      const bytes = await readFile(join(tmp.dir, file)).catch(() => Buffer.alloc(0));
      for (const ref of ['env:ADMIN_PW', 'env:REPL_PW', 'env:APP_PW']) assert.ok(!bytes.includes(SECRETS[ref]!), `${ref} found in ${file}`);
    }
  } finally {
    await primary.end();
    await backup.end();
  }
});

test('semi-sync as prepared: the primary killed under writes loses no acknowledged row (runs last: it kills the primary)', async () => {
  const backup = await connectAs(BACKUP, pair.port);
  const writerDb = await connectAs(PRIMARY, pair.port);
  const acked: number[] = [];
  try {
    await writerDb.query('CREATE TABLE IF NOT EXISTS speed.acked (id INT PRIMARY KEY) ENGINE=InnoDB');
    // Bounded writer: stops at the first error (the kill) or after 50 000 rows.
    const writing = (async () => {
      for (let id = 1; id <= 50_000; id++) {
        try {
          await writerDb.query('INSERT INTO speed.acked (id) VALUES (?)', [id]);
        } catch {
          return;
        }
        acked.push(id);
      }
    })();
    await new Promise((r) => setTimeout(r, 1500));
    process.kill(pair.primary.pid, 'SIGKILL');
    await writing;
    assert.ok(acked.length > 100, `only ${acked.length} rows were acknowledged before the kill`);
    // The replica applies what it acknowledged from its relay log, primary or not.
    const last = acked[acked.length - 1]!;
    let found = 0;
    for (let i = 0; i < 100; i++) {
      const [[row]] = await backup.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n, COALESCE(MAX(id), 0) AS top FROM speed.acked');
      found = Number(row!.n);
      if (Number(row!.top) >= last) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const [rows] = await backup.query<mysql.RowDataPacket[]>('SELECT id FROM speed.acked WHERE id <= ?', [last]);
    const present = new Set(rows.map((r) => Number(r.id)));
    const lost = acked.filter((id) => !present.has(id));
    process.stdout.write(`# ${acked.length} rows acknowledged before SIGKILL, ${found} on the replica, ${lost.length} lost\n`);
    assert.deepEqual(lost, []);
  } finally {
    writerDb.destroy();
    await backup.end();
  }
});
