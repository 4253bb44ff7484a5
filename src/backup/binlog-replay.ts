/**
 * Point-in-time restore: after a backup copy is restored on a machine, the binary log shipped
 * to the stores (binlogs.ts) is replayed on it from the copy's GTID — to the last transaction
 * that reached a store, or to a GTID or a time a person names (`backup restore --until`).
 *
 * The store with the newest copy of the log is used; its files are checked as one unbroken
 * history from the copy's position (a missing file is a gap: the replay stops before it and
 * says so), copied to the machine through the operator's connections, and replayed there by
 * `mariadb-binlog --verify-binlog-checksum` into MariaDB over its socket (an off-site store's
 * sealed files are opened on the operator's machine on the way). The events keep
 * their GTIDs, so a replay interrupted and applied again starts after what it already
 * applied. The newest file may end in the middle of an event (the primary died while it was
 * being sent): the replay ends at the last whole event, and a transaction cut there is
 * rolled back.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ActionError, type Action, type ActionContext, type Change } from '../actions/action.ts';
import { shq } from '../remote/remote.ts';
import { privateWorkDir, runBash } from '../remote/shell.ts';
import { openSealedFile, SealedLogError } from './binlog-seal.ts';
import { binlogDir, gtidAtOrBefore, listShipped, replayRun, shippingStores, type ShippedFile } from './binlogs.ts';
import { backupSettings } from './settings.ts';

export interface Until {
  gtid?: string;
  /** `YYYY-MM-DD HH:MM:SS`, the machine's time zone (mariadb-binlog's --stop-datetime). */
  time?: string;
}

export interface ReplayOptions {
  /** Stores to take the log from (those that ship it). */
  stores: readonly string[];
  /** The restored copy's GTID: asked when the step runs (the copy is chosen by the step before). */
  from(ctx: ActionContext): Promise<string>;
  until?: Until;
}

export interface ReplaySource {
  store: string;
  source: string;
  files: ShippedFile[];
  gaps: string[];
}

const GTID_LIST = /^(\d+-\d+-\d+)(,\d+-\d+-\d+)*$/;
const TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;

export function checkUntil(until: Until | undefined): void {
  if (until?.gtid !== undefined && !GTID_LIST.test(until.gtid)) throw new ActionError('precondition', `--until ${until.gtid}: expected a GTID like 0-12-345`);
  if (until?.time !== undefined && !TIME.test(until.time)) throw new ActionError('precondition', `--until ${until.time}: expected a time like "2026-12-01 13:45:00"`);
}

/**
 * The store holding the newest copy of the log, and its files to replay after `from`. A
 * store whose copy cannot be read is never taken for one without a log: when no other store
 * continues the copy, that is an error naming it, not "nothing to replay".
 */
export async function chooseReplaySource(ctx: ActionContext, stores: readonly string[], from: string): Promise<ReplaySource | undefined> {
  const shipping = new Set(shippingStores(ctx.fleet).map((m) => m.name));
  let best: (ReplaySource & { newest: number }) | undefined;
  const unread: string[] = [];
  for (const store of stores.filter((s) => shipping.has(s))) {
    let sources;
    try {
      sources = await listShipped(ctx.remote(store), ctx.fleet);
    } catch (error) {
      unread.push(`${store}: ${(error as Error).message}`);
      continue;
    }
    for (const s of sources) {
      const newest = Math.max(0, ...s.files.map((f) => f.mtime));
      const run = replayRun(s.files, from);
      if (run.files.length === 0) continue;
      if (!best || newest > best.newest) best = { store, source: s.source, files: run.files, gaps: run.gaps, newest };
    }
  }
  if (!best && unread.length) throw new ActionError('precondition', `the shipped binary log cannot be read on ${unread.join('; ')}`);
  if (unread.length) ctx.log(`replaying from ${best!.store}; not read: ${unread.join('; ')}`);
  if (!best) return undefined;
  const { newest: _newest, ...chosen } = best;
  return chosen;
}

/** @@gtid_binlog_pos of MariaDB on the machine, over its socket. */
async function binlogPos(ctx: ActionContext, machine: string, socket: string): Promise<string> {
  const r = await ctx.remote(machine).run(`mariadb --socket=${shq(socket)} --user=root -N -e 'SELECT @@gtid_binlog_pos'`, { timeoutMs: 15_000 });
  if (r.code !== 0) throw new ActionError('precondition', `${machine}: cannot read MariaDB's GTID position: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

/** The later of two GTID lists, per domain. */
function later(a: string, b: string): string {
  if (!a) return b;
  if (!b) return a;
  return gtidAtOrBefore(a, b) ? b : a;
}

interface Brought {
  /** The files brought whole up to where the history stops (a gap inside a sealed file ends it). */
  files: ShippedFile[];
  stopped?: string;
  cutShort: boolean;
}

/**
 * The chosen files, copied from the store to the operator's folder `local` (sealed ones
 * opened there with the backup key) and handed to `send` one by one.
 */
async function bringFiles(ctx: ActionContext, chosen: ReplaySource, local: string, send: (name: string) => Promise<void>): Promise<Brought> {
  const dir = `${binlogDir(ctx.fleet)}/${chosen.source}`;
  let secret: string | undefined;
  /** Brings `f` into `local`; says why nothing after it may be used, when that is so. */
  const bring = async (f: ShippedFile, last: boolean): Promise<{ stopped?: string; cutShort: boolean }> => {
    if (!f.sealed) {
      await ctx.remote(chosen.store).download(`${dir}/${f.name}`, join(local, f.name));
      return { cutShort: false };
    }
    const ref = ctx.fleet.backups?.encryptionKey;
    if (!ref) throw new ActionError('precondition', `${chosen.store} keeps ${f.name} sealed: set backups.encryptionKey (the key it was sealed for) to open it`);
    secret ??= await ctx.secret(ref);
    const sealed = join(local, `${f.name}.sealed`);
    await ctx.remote(chosen.store).download(`${dir}/${f.name}.sealed`, sealed);
    let opened;
    try {
      opened = await openSealedFile(sealed, f.name, join(local, f.name), secret);
    } catch (error) {
      if (error instanceof SealedLogError) throw new ActionError('precondition', `${chosen.store}: ${error.message}`);
      throw error;
    } finally {
      await rm(sealed, { force: true });
    }
    if (opened.stopped) return { stopped: opened.stopped, cutShort: false };
    // Only the newest file may end in a record cut short (the store stopped while sealing it); an older one lost its end.
    if (opened.cutShort && !last) return { stopped: `${f.name}'s sealed copy ends in a record cut short, and newer files follow: nothing after it is used`, cutShort: false };
    return { cutShort: opened.cutShort };
  };
  const files: ShippedFile[] = [];
  for (const [i, f] of chosen.files.entries()) {
    const got = await bring(f, i === chosen.files.length - 1);
    await send(f.name);
    files.push(f);
    if (got.stopped) return { files, stopped: got.stopped, cutShort: false };
    if (got.cutShort) return { files, cutShort: true };
  }
  return { files, cutShort: false };
}

export interface ReplayOutcome {
  chosen?: ReplaySource;
  /** @@gtid_binlog_pos before and after the replay. */
  before: string;
  after: string;
}

export interface ReplayAction extends Action {
  readonly outcome: ReplayOutcome | undefined;
}

export function replayBinlogs(to: string, options: ReplayOptions): ReplayAction {
  checkUntil(options.until);
  let outcome: ReplayOutcome | undefined;
  const stop = options.until?.gtid ? ` --stop-position=${shq(options.until.gtid)}` : options.until?.time ? ` --stop-datetime=${shq(options.until.time)}` : '';
  return {
    title: `Replay the binary log shipped to ${options.stores.join(' or ')} on ${to}${options.until ? `, up to ${options.until.gtid ?? options.until.time}` : ', to its last transaction'}`,
    machines: [to, ...options.stores],
    mutating: true,
    get outcome() {
      return outcome;
    },
    async plan(ctx) {
      // The copy is chosen by the restore step's plan, which reports why when there is none.
      const from = await options.from(ctx);
      const chosen = await chooseReplaySource(ctx, options.stores, from);
      const changes: Change[] = [];
      if (!chosen) return [{ kind: 'note', machine: to, text: `no shipped binary log on ${options.stores.join(', ')} continues the copy (GTID ${from || '-'}): writes after the copy are lost` }];
      changes.push({ kind: 'note', machine: to, text: `from ${chosen.store}: ${chosen.source}'s ${chosen.files.map((f) => f.name).join(', ')}${chosen.files.some((f) => f.sealed) ? ' (sealed: opened on the operator\'s machine with backups.encryptionKey)' : ''}, after GTID ${from}${chosen.gaps.length ? `; STOPS at a gap: ${chosen.gaps.join('; ')}` : ''}` });
      changes.push({ kind: 'command', machine: to, command: `mariadb-binlog --verify-binlog-checksum --start-position=${from}${stop} ${chosen.files.map((f) => f.name).join(' ')} | mariadb` });
      return changes;
    },
    async apply(ctx) {
      const settings = backupSettings(ctx.fleet);
      const { socket } = await settings.mariadb(ctx, to);
      const copyGtid = await options.from(ctx);
      const before = await binlogPos(ctx, to, socket);
      // Applied already (an interrupted run applied again): start after it, never twice.
      const from = later(copyGtid, before);
      const chosen = await chooseReplaySource(ctx, options.stores, copyGtid);
      if (!chosen) {
        outcome = { before, after: before };
        ctx.log(`${to}: no shipped binary log continues the copy (GTID ${copyGtid || '-'}): writes after it are lost`);
        return;
      }
      const local = await mkdtemp(join(tmpdir(), 'lifeboat-binlogs-'));
      const remote = ctx.remote(to);
      const work = await privateWorkDir(remote, settings.workDir(to), 'lifeboat-replay');
      try {
        const brought = await bringFiles(ctx, chosen, local, async (name) => remote.upload(join(local, name), `${work}/${name}`));
        const files = brought.files.map((f) => shq(`${work}/${f.name}`)).join(' ');
        const script = [
          'set -u',
          `mariadb-binlog --verify-binlog-checksum --start-position=${shq(from)}${stop} ${files} 2>${shq(`${work}/binlog.err`)} | mariadb --socket=${shq(socket)} --user=root`,
          'codes=("${PIPESTATUS[@]}")',
          `cat ${shq(`${work}/binlog.err`)} >&2`,
          'echo "exit ${codes[0]} ${codes[1]}"',
        ].join('\n');
        const r = await runBash(remote, script, { timeoutMs: 6 * 3600_000 });
        const [, readCode, loadCode] = /exit (\d+) (\d+)/.exec(r.stdout) ?? [];
        // The newest file cut in the middle of an event is the end of the log, not damage.
        const cutShort = /Event truncated|Could not read entry at offset/.test(r.stderr) || brought.cutShort;
        const gaps = [...chosen.gaps, ...(brought.stopped ? [brought.stopped] : [])];
        if (loadCode !== '0') throw new ActionError('apply-failed', `${to}: MariaDB refused the replayed log: ${r.stderr.trim().slice(-500)}`);
        if (readCode !== '0' && !cutShort) throw new ActionError('apply-failed', `${to}: the shipped log from ${chosen.store} could not be read whole (checksums): ${r.stderr.trim().slice(-500)}`);
        const after = await binlogPos(ctx, to, socket);
        outcome = { chosen: { ...chosen, files: brought.files, gaps }, before, after };
        ctx.log(`${to}: replayed ${chosen.source}'s binary log from ${chosen.store} (${brought.files.length} file(s)${brought.files.some((f) => f.sealed) ? ', sealed, opened on the operator\'s machine' : ''}) from GTID ${from || '-'} to ${after || '-'}` +
          `${cutShort ? '; its newest file ends in an incomplete event (the primary stopped while sending it)' : ''}` +
          `${gaps.length ? `; STOPPED at a gap, nothing after it replayed: ${gaps.join('; ')}` : ''}`);
      } finally {
        await rm(local, { recursive: true, force: true });
        await remote.run(`rm -rf -- ${shq(work)}`, { timeoutMs: 60_000 }).catch(() => undefined);
      }
    },
    async verify(ctx) {
      const { socket } = await backupSettings(ctx.fleet).mariadb(ctx, to);
      const now = await binlogPos(ctx, to, socket);
      const copyGtid = await options.from(ctx);
      if (copyGtid && now && !gtidAtOrBefore(copyGtid, now)) throw new ActionError('verify-failed', `${to}: MariaDB is at GTID ${now}, before the copy's ${copyGtid}`);
      if (options.until?.gtid && now && !gtidAtOrBefore(now, options.until.gtid)) throw new ActionError('verify-failed', `${to}: MariaDB is at GTID ${now}, past --until ${options.until.gtid}`);
    },
  };
}
