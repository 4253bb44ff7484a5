/**
 * The primary's binary log, copied continuously to the on-site backup stores: what closes
 * the window between the newest backup and a loss of both app servers (seed scenario 5).
 *
 * On each store a loop (`lifeboat-binlog-ship`, kept by supervisor or systemd) runs Debian's
 * `mariadb-binlog --read-from-remote-server --raw --stop-never` against the primary, as the
 * replication account and inside verified TLS when the fleet has it: the server streams
 * each transaction as it commits, and the store keeps the primary's own files, byte for byte,
 * each event with its CRC32. The loop resumes from its newest file after any cut (the file is
 * fetched again from its start), and starts from the primary's oldest file when its newest is
 * gone from the primary: the missing files are then a gap, named by `binlogGaps` and never
 * replayed across. Files are kept per source machine (`<dir>/<source>/`): a promotion
 * points the loop at the new primary (`ship.conf`, re-read at each start) and its files go
 * beside the old one's.
 */
import type { Fleet, Machine } from '../fleet/schema.ts';
import { shq, type Remote } from '../remote/remote.ts';
import { runBash } from '../remote/shell.ts';
import { machineTlsFiles, servesData } from '../remote/tls.ts';

export const SHIP_PROGRAM = 'lifeboat-binlog-ship';
/** Binary log files as MariaDB names them: `<basename>.<six digits>`. */
export const BINLOG_FILE = /^[A-Za-z0-9_.-]+\.[0-9]{6}$/;

export interface ShipPaths {
  dir: string;
  conf: string;
  credentials: string;
  script: string;
  pid: string;
  lastError: string;
}

export function binlogDir(fleet: Fleet): string {
  return fleet.backups?.binlogDir ?? '/var/lib/lifeboat/binlogs';
}

export function shipPaths(fleet: Fleet): ShipPaths {
  const dir = binlogDir(fleet);
  return { dir, conf: `${dir}/ship.conf`, credentials: `${dir}/ship.cnf`, script: `${dir}/ship.sh`, pid: `${dir}/ship.pid`, lastError: `${dir}/ship.last-error` };
}

/** The on-site stores in service: the off-site ones get no binlogs (they would lie there in clear). */
export function shippingStores(fleet: Fleet): Machine[] {
  if (!fleet.database || !fleet.backups || fleet.backups.binlogs === false) return [];
  return fleet.backups.stores
    .map((s) => fleet.machines.find((m) => m.name === s))
    .filter((m): m is Machine => m !== undefined && !m.down && !m.offsite);
}

/**
 * What the loop reads at each start: the source and how to reach it. A server id of its own
 * per store, as the primary drops a replica connection when another arrives with the same id.
 */
export function shipConf(fleet: Fleet, store: Machine, source: Machine): string {
  const ids = fleet.backups?.stores ?? [];
  // With the fleet's TLS on, prepare gave the source its certificate and the store the CA
  // (its TLS part runs first), and the replication account logs in only inside TLS: decided by
  // the fleet, not by this operator's records, so a recovery run elsewhere writes the same.
  const tls = fleet.tls.enabled && servesData(source)
    ? `--ssl --ssl-ca=${machineTlsFiles(fleet).ca} --ssl-verify-server-cert`
    : '';
  return [
    `# Written by lifeboat: ${store.name} keeps the binary log of ${source.name}. A recovery rewrites it.`,
    `SOURCE=${shq(source.name)}`,
    `HOST=${shq(source.address)}`,
    `PORT=${fleet.database?.port ?? 3306}`,
    `SERVER_ID=${60_000 + Math.max(0, ids.indexOf(store.name))}`,
    `TLS=${shq(tls)}`,
    '',
  ].join('\n');
}

/** The loop (bash): started by the keeper, it never ends by itself. */
export function shipScript(paths: ShipPaths): string {
  return `#!/bin/bash
# Written by \`lifeboat prepare\`: keeps a copy of the primary's binary log in ${paths.dir}.
set -u
dir=${shq(paths.dir)}
umask 077
while :; do
  . "$dir/ship.conf"
  mkdir -p "$dir/$SOURCE"
  logs=$(mariadb --defaults-extra-file="$dir/ship.cnf" $TLS --host="$HOST" --port="$PORT" --connect-timeout=3 -N -e 'SHOW BINARY LOGS' 2>"$dir/ship.last-error" | cut -f1)
  if [ -n "$logs" ]; then
    last=$(ls -1 "$dir/$SOURCE" | grep -E '${BINLOG_FILE.source}' | sort | tail -n 1)
    # The newest file kept here, if the primary still has it; else its oldest (a gap, named at restore).
    if [ -z "$last" ] || ! printf '%s\\n' "$logs" | grep -qxF "$last"; then last=$(printf '%s\\n' "$logs" | head -n 1); fi
    mariadb-binlog --defaults-extra-file="$dir/ship.cnf" $TLS --read-from-remote-server --host="$HOST" --port="$PORT" \\
      --raw --stop-never --stop-never-slave-server-id="$SERVER_ID" --to-last-log --result-file="$dir/$SOURCE/" "$last" 2>>"$dir/ship.last-error" &
    echo $! > "$dir/ship.pid"
    wait $!
  fi
  sleep 1
done
`;
}

export interface ShippedFile {
  name: string;
  bytes: number;
  /** Seconds since the epoch of its last change. */
  mtime: number;
  /** The GTID state before its first event (its Gtid_list event), e.g. `0-12-40`. */
  startsAfter: string;
}

export interface ShippedSource {
  source: string;
  files: ShippedFile[];
}

/** Every source folder on `store` and its files, oldest first, each with its starting GTID state. */
export async function listShipped(remote: Remote, fleet: Fleet): Promise<ShippedSource[]> {
  const dir = binlogDir(fleet);
  const script = [
    `dir=${shq(dir)}`,
    '[ -d "$dir" ] || exit 0',
    'for src in "$dir"/*/; do',
    '  [ -d "$src" ] || continue',
    `  for f in $(ls -1 "$src" | grep -E '${BINLOG_FILE.source}' | sort); do`,
    // awk stops reading at the Gtid_list event: mariadb-binlog then ends on a closed pipe.
    '    list=$(mariadb-binlog --base64-output=never "$src$f" 2>/dev/null | awk \'/Gtid list/ { sub(/.*Gtid list \\[/, ""); sub(/\\].*/, ""); print; exit }\' || true)',
    '    printf "%s\\t%s\\t%s\\t%s\\t%s\\n" "$(basename "$src")" "$f" "$(stat -c %s "$src$f")" "$(stat -c %Y "$src$f")" "$list"',
    '  done',
    'done',
  ].join('\n');
  const r = await runBash(remote, script, { timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`${remote.machine}: cannot list the shipped binary logs in ${dir}: ${r.stderr.trim().slice(-300)}`);
  const bySource = new Map<string, ShippedFile[]>();
  for (const line of r.stdout.split('\n').filter(Boolean)) {
    const [source, name, bytes, mtime, list] = line.split('\t');
    if (!source || !name) continue;
    const files = bySource.get(source) ?? [];
    files.push({ name, bytes: Number(bytes), mtime: Number(mtime), startsAfter: (list ?? '').replace(/\s/g, '') });
    bySource.set(source, files);
  }
  return [...bySource].map(([source, files]) => ({ source, files }));
}

/** `0-12-40,1-3-7` → domain → sequence number. */
export function gtidMap(list: string): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const part of list.split(',').map((p) => p.trim()).filter(Boolean)) {
    const [domain, , seq] = part.split('-');
    if (domain !== undefined && seq !== undefined && /^\d+$/.test(seq)) {
      const n = BigInt(seq);
      if ((out.get(domain) ?? -1n) < n) out.set(domain, n);
    }
  }
  return out;
}

/** True when every domain of `a` is at or before `b`'s (a ≤ b). */
export function gtidAtOrBefore(a: string, b: string): boolean {
  const bm = gtidMap(b);
  return [...gtidMap(a)].every(([domain, seq]) => seq <= (bm.get(domain) ?? -1n));
}

/**
 * Where the shipped files of one source stop being one unbroken history after `from` (a
 * backup's GTID): a missing file number, or a first file that starts after `from` (the
 * copy's position is not in the files). Empty when they are whole.
 */
export function binlogGaps(files: readonly ShippedFile[], from: string): string[] {
  const gaps: string[] = [];
  if (files.length === 0) return gaps;
  const first = files[0]!;
  if (from && !gtidAtOrBefore(first.startsAfter, from)) gaps.push(`the oldest file kept, ${first.name}, starts after ${first.startsAfter || '(nothing)'}, later than the copy's ${from}`);
  for (let i = 1; i < files.length; i++) {
    const prev = Number(files[i - 1]!.name.split('.').pop());
    const next = Number(files[i]!.name.split('.').pop());
    if (next !== prev + 1) gaps.push(`files ${files[i - 1]!.name} → ${files[i]!.name}: ${next - prev - 1} file(s) missing`);
    if (!gtidAtOrBefore(files[i - 1]!.startsAfter, files[i]!.startsAfter)) gaps.push(`${files[i]!.name} starts at ${files[i]!.startsAfter}, before ${files[i - 1]!.name} did: not one history`);
  }
  return gaps;
}

/**
 * The files to replay after a copy taken at `from`: the unbroken run of the source's files
 * from the last one starting at or before `from`; the gaps stop it.
 */
export function replayRun(files: readonly ShippedFile[], from: string): { files: ShippedFile[]; gaps: string[] } {
  let start = 0;
  for (let i = 0; i < files.length; i++) if (gtidAtOrBefore(files[i]!.startsAfter, from)) start = i;
  const run = files.slice(start);
  const gaps = binlogGaps(run, from);
  if (gaps.length === 0) return { files: run, gaps };
  // Up to the first gap only: a history with a hole is never replayed across it.
  let end = 1;
  while (end < run.length && binlogGaps(run.slice(0, end + 1), from).length === 0) end++;
  return { files: binlogGaps(run.slice(0, 1), from).length ? [] : run.slice(0, end), gaps };
}
