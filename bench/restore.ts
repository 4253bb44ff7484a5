/**
 * Restore bench: on a generated `speed` database of ≥ 1 M rows, how long each kind of copy
 * takes to make and how long until a restored server answers a query, beside the seed's
 * method (`mariadb-dump speed > dump.sql`, then `mariadb speed < dump.sql`) in the same run.
 * lifeboat's two kinds go through the real code: `runBackup` to a store, `restoreCopy` onto a
 * fresh server. Every server is a scratch mariadbd with a 256 MB buffer pool; everything
 * lives in one temp folder removed at the end.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ActionContext } from '../src/actions/action.ts';
import { findNewestGoodCopy } from '../src/backup/catalog.ts';
import { countRows, sqlOn } from '../src/backup/mariadb-local.ts';
import { restoreCopy } from '../src/backup/restore.ts';
import { runBackup } from '../src/backup/run.ts';
import { createScratch, type Scratch } from '../src/backup/scratch.ts';
import { backupSettings } from '../src/backup/settings.ts';
import { runBash, shq } from '../src/backup/remote-shell.ts';
import { fleetSchema } from '../src/fleet/schema.ts';
import { LocalRemote } from '../src/remote/local.ts';
import { generateSpeed } from './generate.ts';

export interface RestoreBenchOptions {
  minRows: number;
  log?: (line: string) => void;
}

export interface MethodResult {
  method: string;
  backupS: number;
  /** From the start of the restore until the restored server answered `SELECT COUNT(*)`. */
  restoreS: number;
  bytes: number;
  rowsChecked: boolean;
}

export interface RestoreBenchResult {
  rows: number;
  logRows: number;
  dataMb: number;
  generateS: number;
  methods: MethodResult[];
}

const seconds = (fromMs: number): number => Math.round((performance.now() - fromMs) / 10) / 100;

export async function benchRestore(options: RestoreBenchOptions): Promise<RestoreBenchResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const root = await mkdtemp(join(tmpdir(), 'lifeboat-bench-'));
  await chmod(root, 0o755);
  const remote = new LocalRemote('bench');
  const scratches: Scratch[] = [];
  const scratch = async (label: string): Promise<Scratch> => {
    const s = await createScratch(remote, root, label, { bufferPoolMb: 256 });
    scratches.push(s);
    await s.initialize();
    return s;
  };
  const stopOnSignal = (): void => void cleanup().finally(() => process.exit(130));
  const cleanup = async (): Promise<void> => {
    for (const s of scratches) await s.destroy().catch(() => undefined);
    await rm(root, { recursive: true, force: true });
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  try {
    const source = await scratch('source');
    log(`generating speed (≥ ${options.minRows} rows)…`);
    const genStarted = performance.now();
    const { rows, logRows } = await generateSpeed(remote, source.local, options.minRows);
    const generateS = seconds(genStarted);
    // Files on disk, not information_schema: its sizes lag behind until statistics are recalculated.
    const dataMb = Number((await runBash(remote, `du -sm ${shq(join(source.local.datadir, 'speed'))} | cut -f1`)).stdout.trim());
    log(`  ${rows} rows in t_user, ${logRows} in user_logs, ${dataMb} MB, ${generateS} s`);
    const expected = await countRows(remote, source.local, 'speed');
    const methods: MethodResult[] = [];

    // (a) The seed's method: a plain dump file without the log table, loaded with the client.
    {
      log('seed: mariadb-dump speed > dump.sql; mariadb speed < dump.sql');
      const file = join(root, 'seed-speed.sql');
      const client = `--socket=${shq(source.local.socket)} --user=root`;
      let t = performance.now();
      await runBash(remote, `mariadb-dump ${client} --ignore-table=speed.user_logs speed > ${shq(file)}`, { timeoutMs: 3_600_000 });
      const backupS = seconds(t);
      const bytes = Number((await runBash(remote, `stat -c %s ${shq(file)}`)).stdout.trim());
      const target = await scratch('seed-target');
      const into = `--socket=${shq(target.local.socket)} --user=root`;
      t = performance.now();
      await runBash(remote, `mariadb ${into} -e 'CREATE DATABASE speed'\nmariadb ${into} speed < ${shq(file)}\nmariadb ${into} -e 'SELECT COUNT(*) FROM speed.t_user' >/dev/null`, { timeoutMs: 3_600_000 });
      const restoreS = seconds(t);
      const got = await countRows(remote, target.local, 'speed');
      methods.push({ method: 'seed: mariadb-dump | mariadb', backupS, restoreS, bytes, rowsChecked: got.t_user === expected.t_user });
      await target.destroy();
      await runBash(remote, `rm -f ${shq(file)}`);
    }

    // (b) and (c): lifeboat's own backup run to a store, then restoreCopy onto a fresh server.
    const fleet = fleetSchema.parse({
      version: 1, name: 'bench',
      machines: [{ name: 'db', address: '127.0.0.1', roles: ['db-primary'] }, { name: 'store', address: '127.0.0.2', roles: ['backup-store'] }],
      database: {
        schema: 'speed', user: 'speed', password: 'env:UNUSED', adminPassword: 'env:UNUSED', logTables: ['user_logs'],
        domainTable: { name: 't_app_dns', domainColumn: 'domain', ipColumn: 'ip', statusColumn: 'status', online: 1, offline: 2 },
      },
      backups: { stores: ['store'] },
    });
    const settings = backupSettings(fleet, {
      dumpDir: { store: join(root, 'store') },
      workDir: { db: root, store: root },
      mariadb: { db: source.local },
    });
    const ctx: ActionContext = {
      fleet, remote: () => remote, secret: () => Promise.reject(new Error('the bench has no secrets')), log: (line) => log(`  ${line}`),
    };
    for (const kind of ['logical', 'physical'] as const) {
      log(`lifeboat ${kind}: backup run, then restore onto a fresh server`);
      let t = performance.now();
      const run = await runBackup(ctx, settings, { kinds: [kind], keepAll: true, now: new Date(Date.now() + (kind === 'physical' ? 1000 : 0)) });
      const backupS = seconds(t);
      if (!run.ok) throw new Error(`backup run failed: ${JSON.stringify(run.shipped)}`);
      const good = await findNewestGoodCopy(ctx, settings, { kind });
      const target = kind === 'logical' ? await scratch(`${kind}-target`) : await createScratch(remote, root, `${kind}-target`, { bufferPoolMb: 256 });
      if (kind === 'physical') scratches.push(target);
      const action = restoreCopy({ copy: good, to: 'store', settings, target: target.local });
      t = performance.now();
      await action.apply(ctx);
      await sqlOn(remote, target.local, 'SELECT COUNT(*) FROM speed.t_user');
      const restoreS = seconds(t);
      await action.verify(ctx);
      methods.push({
        method: kind === 'logical' ? 'lifeboat logical (dump | zstd)' : 'lifeboat physical (mariadb-backup)',
        backupS, restoreS, bytes: good.copy.bytes, rowsChecked: true,
      });
      await target.destroy();
    }
    return { rows, logRows, dataMb, generateS, methods };
  } finally {
    process.off('SIGINT', stopOnSignal);
    process.off('SIGTERM', stopOnSignal);
    await cleanup();
  }
}

export function renderRestoreBench(result: RestoreBenchResult, target = 8): string {
  const seed = result.methods[0]!;
  const fmt = (n: number): string => n.toFixed(2).padStart(9);
  const ratio = (n: number): string => `${n.toFixed(1)}×`.padStart(12);
  const lines = [
    `speed database: ${result.rows.toLocaleString('en')} rows in t_user + ${result.logRows.toLocaleString('en')} in user_logs, ${result.dataMb} MB (generated in ${result.generateS} s)`,
    '',
    `${'method'.padEnd(36)} ${'backup s'.padStart(9)} ${'restore→query s'.padStart(16)} ${'copy MB'.padStart(8)} ${'restore vs seed'.padStart(16)} ${'total vs seed'.padStart(14)}`,
  ];
  for (const m of result.methods) {
    lines.push(`${m.method.padEnd(36)} ${fmt(m.backupS)} ${fmt(m.restoreS).padStart(16)} ${(m.bytes / 1048576).toFixed(0).padStart(8)} ${ratio(seed.restoreS / m.restoreS).padStart(16)} ${ratio((seed.backupS + seed.restoreS) / (m.backupS + m.restoreS)).padStart(14)}`);
  }
  const fastest = Math.max(...result.methods.slice(1).map((m) => seed.restoreS / m.restoreS));
  lines.push('', `fastest path restores ${fastest.toFixed(1)}× faster than the seed's method (target ≥ ${target}×): ${fastest >= target ? 'MET' : 'NOT MET'}`);
  return lines.join('\n') + '\n';
}
