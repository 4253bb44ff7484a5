/**
 * An old primary's own transactions, the ones the live primary lacks, read and extracted
 * before anything of the old server is replaced: `mariadb-binlog` on its binary log, on the
 * machine, into a private file there, then copied to the operator's machine and checked
 * there (every transaction of the ranges once, nothing else, the same SHA-256 on both ends).
 *
 * The file is mariadb-binlog's own output with `--verbose`: replayable as it is
 * (`mariadb < FILE` on the live primary, once a person decided the rows belong there), and
 * readable: each row event is also written out as SQL in `###` comments.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type mysql from 'mysql2/promise';
import { ActionError, type Action, type ActionContext } from './action.ts';
import { asActionError } from './action-errors.ts';
import { withAdmin } from './db-connection.ts';
import { divergence, extractionOptions, extractProblem, gtidsInExtract, type Divergence, type OwnRange } from './gtid-divergence.ts';
import { runChecked, shq } from '../remote/remote.ts';

/** Where the copy waits on the old machine before it is fetched (root's, private). */
const REMOTE_DIR = '/var/lib/lifeboat/rejoin';
const BINLOG_NAME = /^[A-Za-z0-9._-]+$/;

async function scalar(db: mysql.Connection, sql: string): Promise<string> {
  const [rows] = await db.query<mysql.RowDataPacket[]>(sql);
  return String(Object.values(rows[0] ?? {})[0] ?? '');
}

/** Both servers' GTID states, read now, compared. */
export async function readDivergence(ctx: ActionContext, old: string, live: string): Promise<Divergence> {
  const [oldSide, liveSide] = await Promise.all([
    asActionError('precondition', `${old}: MariaDB`, () => withAdmin(ctx, old, async (db) => ({
      state: await scalar(db, 'SELECT @@global.gtid_binlog_state'),
      serverId: Number(await scalar(db, 'SELECT @@global.server_id')),
    }), { connectTimeoutMs: 5000 })),
    asActionError('precondition', `${live}: MariaDB`, () => withAdmin(ctx, live, async (db) => ({
      state: await scalar(db, 'SELECT @@global.gtid_binlog_state'),
      slavePos: await scalar(db, 'SELECT @@global.gtid_slave_pos'),
    }), { connectTimeoutMs: 5000 })),
  ]);
  return divergence({ oldState: oldSide.state, oldServerId: oldSide.serverId, liveState: liveSide.state, liveSlavePos: liveSide.slavePos });
}

/** What the extraction found and wrote, kept beside the extract (JSON; seqs as text). */
export interface ExtractRecord {
  machine: string;
  live: string;
  kind: Divergence['kind'];
  detail: string;
  ranges: Array<{ domain: number; server: number; after: string; upTo: string }>;
  /** The extract, when there was something to extract. */
  file?: string;
  sha256?: string;
  transactions?: number;
}

export const recordFileOf = (extractFile: string) => extractFile.replace(/\.sql$/, '') + '.json';

export async function readExtractRecord(extractFile: string): Promise<ExtractRecord | undefined> {
  try {
    return JSON.parse(await readFile(recordFileOf(extractFile), 'utf8')) as ExtractRecord;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

const rangesOf = (r: ExtractRecord): OwnRange[] => r.ranges.map((x) => ({ domain: x.domain, server: x.server, after: BigInt(x.after), upTo: BigInt(x.upTo) }));

async function writePrivate(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, text, { mode: 0o600 });
  await rename(tmp, path);
}

/** Why the extract named by `r` is not complete and intact on this machine, or undefined. */
async function extractProblemOf(r: ExtractRecord): Promise<string | undefined> {
  if (r.kind !== 'extra') return undefined;
  if (!r.file || !r.sha256) return 'the record names no extract';
  let body: Buffer;
  try {
    body = await readFile(r.file);
  } catch (error) {
    return `${r.file}: ${(error as Error).message}`;
  }
  if (createHash('sha256').update(body).digest('hex') !== r.sha256) return `${r.file} is not the file extracted (SHA-256 differs)`;
  return extractProblem(gtidsInExtract(body.toString('utf8')), rangesOf(r));
}

/**
 * Reads which transactions only `machine` holds (after it was fenced: it takes no more), and
 * extracts them to `localFile` on the operator's machine. Nothing to extract is recorded too,
 * so that the next step knows the old server's history is a prefix of the live one's.
 */
export function extractOwnTransactions(machine: string, live: string, localFile: string): Action {
  return {
    title: `Extract the transactions only ${machine} holds (not on ${live}) to ${localFile}`,
    machines: [machine, live],
    mutating: true,
    async plan(ctx) {
      const d = await readDivergence(ctx, machine, live);
      const what = d.kind === 'extra'
        ? `${d.detail}: mariadb-binlog ${extractionOptions(d.ranges).join(' ')} <its binary logs> → ${localFile} (read again once it is fenced)`
        : d.kind === 'prefix' ? `${d.detail}: nothing to extract (read again once it is fenced)` : `cannot tell: ${d.detail}`;
      return [{ kind: 'note', machine, text: what }];
    },
    async apply(ctx) {
      const done = await readExtractRecord(localFile);
      if (done && (await extractProblemOf(done)) === undefined) return;
      const d = await readDivergence(ctx, machine, live);
      const record: ExtractRecord = {
        machine, live, kind: d.kind, detail: d.detail,
        ranges: d.kind === 'extra' ? d.ranges.map((r) => ({ domain: r.domain, server: r.server, after: String(r.after), upTo: String(r.upTo) })) : [],
      };
      if (d.kind === 'extra') {
        const { dir, files } = await asActionError('apply-failed', `${machine}: MariaDB`, () => withAdmin(ctx, machine, async (db) => {
          const [logs] = await db.query<mysql.RowDataPacket[]>('SHOW BINARY LOGS');
          const base = await scalar(db, 'SELECT @@global.log_bin_basename');
          return { dir: dirname(base), files: logs.map((l) => String(l.Log_name)) };
        }));
        const bad = files.find((f) => !BINLOG_NAME.test(f));
        if (bad !== undefined || !dir.startsWith('/')) throw new ActionError('apply-failed', `${machine}: unexpected binary log name ${JSON.stringify(bad ?? dir)}`);
        const name = localFile.split('/').pop()!;
        const remoteFile = `${REMOTE_DIR}/${name}`;
        const remote = ctx.remote(machine);
        const made = await runChecked(remote,
          `umask 077 && mkdir -p ${REMOTE_DIR} && mariadb-binlog ${extractionOptions(d.ranges).map(shq).join(' ')} ${files.map((f) => shq(`${dir}/${f}`)).join(' ')} > ${shq(`${remoteFile}.tmp`)} && mv ${shq(`${remoteFile}.tmp`)} ${shq(remoteFile)} && sha256sum ${shq(remoteFile)}`,
          { timeoutMs: 30 * 60_000 });
        const sha = made.stdout.trim().split(/\s+/)[0] ?? '';
        await mkdir(dirname(localFile), { recursive: true, mode: 0o700 });
        const tmp = `${localFile}.tmp-${process.pid}`;
        try {
          await remote.download(remoteFile, tmp);
          const body = await readFile(tmp);
          if (createHash('sha256').update(body).digest('hex') !== sha) throw new ActionError('apply-failed', `${localFile}: the copy differs from the extract on ${machine} (SHA-256)`);
          const problem = extractProblem(gtidsInExtract(body.toString('utf8')), d.ranges);
          if (problem) throw new ActionError('apply-failed', `the extract of ${machine}'s own transactions is not whole: ${problem}`);
          await rename(tmp, localFile);
        } finally {
          await rm(tmp, { force: true });
        }
        Object.assign(record, { file: localFile, sha256: sha, transactions: Number(d.count) });
        ctx.log(`${machine}: ${d.detail}; extracted to ${localFile} (${(await stat(localFile)).size} bytes, also on ${machine} in ${remoteFile})`);
      } else {
        ctx.log(`${machine}: ${d.detail}`);
      }
      await writePrivate(recordFileOf(localFile), `${JSON.stringify(record, null, 2)}\n`);
    },
    async verify() {
      const r = await readExtractRecord(localFile);
      if (!r) throw new ActionError('verify-failed', `no record of the extraction at ${recordFileOf(localFile)}`);
      const problem = await extractProblemOf(r);
      if (problem) throw new ActionError('verify-failed', problem);
    },
  };
}
