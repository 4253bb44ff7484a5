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
 *
 * Off-site stores keep the log sealed (binlog-seal.ts): mariadb-binlog writes into a private
 * folder in memory (`/run`), and the loop seals what arrived every half second into an
 * authenticated CMS envelope for the operator's public key, appended to `<file>.sealed`;
 * the clear bytes are then punched out of memory. The store holds no key that opens them.
 */
import type { Fleet, Machine } from '../fleet/schema.ts';
import { shq, type Remote } from '../remote/remote.ts';
import { runBash } from '../remote/shell.ts';
import { machineTlsFiles, servesData } from '../remote/tls.ts';

export const SHIP_PROGRAM = 'lifeboat-binlog-ship';
/** Binary log files as MariaDB names them: `<basename>.<six digits>`. */
export const BINLOG_FILE = /^[A-Za-z0-9_.-]+\.[0-9]{6}$/;
/** A shipped file on a store: the binary log file itself, or its sealed copy. */
const SHIPPED_FILE = /^[A-Za-z0-9_.-]+\.[0-9]{6}(\.sealed)?$/;
/** Where an off-site store's loop lets mariadb-binlog write before sealing: memory, never disk. */
export const SEAL_STAGING = '/run/lifeboat-binlogs';

export interface ShipPaths {
  dir: string;
  conf: string;
  credentials: string;
  script: string;
  pid: string;
  lastError: string;
  /** The operator's public key (a certificate) that off-site stores seal the log for. */
  sealCert: string;
}

export function binlogDir(fleet: Fleet): string {
  return fleet.backups?.binlogDir ?? '/var/lib/lifeboat/binlogs';
}

export function shipPaths(fleet: Fleet): ShipPaths {
  const dir = binlogDir(fleet);
  return { dir, conf: `${dir}/ship.conf`, credentials: `${dir}/ship.cnf`, script: `${dir}/ship.sh`, pid: `${dir}/ship.pid`, lastError: `${dir}/ship.last-error`, sealCert: `${dir}/seal.crt` };
}

/**
 * The stores in service that keep the log: every on-site one, and the off-site ones when
 * `backups.encryptionKey` is set (their copy is sealed for the key's public half; without
 * it they would hold the log in clear, and get none).
 */
export function shippingStores(fleet: Fleet): Machine[] {
  if (!fleet.database || !fleet.backups || fleet.backups.binlogs === false) return [];
  const sealable = Boolean(fleet.backups.encryptionKey);
  return fleet.backups.stores
    .map((s) => fleet.machines.find((m) => m.name === s))
    .filter((m): m is Machine => m !== undefined && !m.down && (!m.offsite || sealable));
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
    `SEALED=${store.offsite ? 1 : 0}`,
    '',
  ].join('\n');
}

/** The loop's `seal IN OUT` (bash; `$dir` is the shipping folder, holding seal.crt and ship.last-error). */
export const SEAL_FUNCTION = `# Seals the new bytes of each file in $1 (memory) into $2/<file>.sealed.
seal() {
  local in=$1 out=$2 f name size upto sealed newest="" rec end
  for f in "$in"/*; do [[ \${f##*/} =~ ${BINLOG_FILE.source} ]] && newest=\${f##*/}; done
  for f in "$in"/*; do
    name=\${f##*/}
    [[ $name =~ ${BINLOG_FILE.source} ]] || continue
    size=$(stat -c %s "$f") || continue
    { read -r upto sealed < "$out/$name.sealed-upto"; } 2>/dev/null || { upto=0; sealed=0; }
    # Its GTID state, read while its first bytes are still in memory (nothing is punched before).
    if [ ! -s "$out/$name.gtid" ]; then
      mariadb-binlog --base64-output=never "$f" 2>/dev/null | awk '/Gtid list/ { sub(/.*Gtid list \\[/, ""); sub(/\\].*/, ""); print; exit }' > "$out/$name.gtid.new"
      if [ -s "$out/$name.gtid.new" ]; then mv -f "$out/$name.gtid.new" "$out/$name.gtid"; else rm -f "$out/$name.gtid.new"; fi
    fi
    # At most 16 MiB per record (a first fetch of a big file is sealed in pieces), each piece
    # punched out of memory as soon as it is sealed.
    while [ "$size" -gt "$upto" ]; do
      rec="$in/.record"
      end=$(( size - upto > 16777216 ? upto + 16777216 : size ))
      # What a crash left half-appended goes first.
      [ -f "$out/$name.sealed" ] && [ "$(stat -c %s "$out/$name.sealed")" -gt "$sealed" ] && truncate -s "$sealed" "$out/$name.sealed"
      { printf 'LBBINLOG %s %s %s\\n' "$name" "$upto" $((end - upto)); tail -c +$((upto + 1)) "$f" | head -c $((end - upto)); } > "$rec"
      if ! openssl cms -encrypt -binary -aes-256-gcm -outform DER -recip "$dir/seal.crt" -in "$rec" -out "$rec.cms" 2>>"$dir/ship.last-error"; then
        rm -f "$rec" "$rec.cms"
        break
      fi
      { printf 'LBREC %s %s\\n' "$upto" "$(stat -c %s "$rec.cms")"; cat "$rec.cms"; } > "$rec.out"
      cat "$rec.out" >> "$out/$name.sealed"
      sealed=$(stat -c %s "$out/$name.sealed")
      upto=$end
      echo "$upto $sealed" > "$out/$name.sealed-upto.new" && mv -f "$out/$name.sealed-upto.new" "$out/$name.sealed-upto"
      rm -f "$rec" "$rec.cms" "$rec.out"
      [ -s "$out/$name.gtid" ] && { fallocate -p -o 0 -l "$upto" "$f" 2>/dev/null || true; }
    done
    # Sealed bytes leave memory once the file's GTID state is read; a finished file goes whole.
    if [ -s "$out/$name.gtid" ] && [ "$upto" -ge "$size" ]; then
      if [ "$name" != "$newest" ]; then rm -f "$f"; else fallocate -p -o 0 -l "$upto" "$f" 2>/dev/null || true; fi
    fi
  done
}`;

/**
 * The loop (bash): started by the keeper, it never ends by itself. Sealed (SEALED=1), the
 * files arrive in memory and `seal` turns each round's new bytes into one record: a line
 * `LBREC <offset> <length>` and a CMS AuthEnvelopedData (AES-256-GCM, ECDH to the operator's
 * key) whose content starts `LBBINLOG <file> <offset> <bytes>`, so a record cannot be moved
 * to another file or place unnoticed. `<file>.sealed-upto` holds how many clear bytes and
 * how many sealed bytes are final (a record cut by a crash is cut off again before the next);
 * `<file>.gtid` the file's starting GTID state, read before its bytes leave memory.
 */
export function shipScript(paths: ShipPaths): string {
  return `#!/bin/bash
# Written by \`lifeboat prepare\`: keeps a copy of the primary's binary log in ${paths.dir}.
set -u
dir=${shq(paths.dir)}
stage=${shq(SEAL_STAGING)}
umask 077

${SEAL_FUNCTION}
while :; do
  . "$dir/ship.conf"
  mkdir -p "$dir/$SOURCE"
  into="$dir/$SOURCE/"
  if [ "\${SEALED:-0}" = 1 ]; then mkdir -p "$stage/$SOURCE" && chmod 0700 "$stage" "$stage/$SOURCE"; into="$stage/$SOURCE/"; fi
  logs=$(mariadb --defaults-extra-file="$dir/ship.cnf" $TLS --host="$HOST" --port="$PORT" --connect-timeout=3 -N -e 'SHOW BINARY LOGS' 2>"$dir/ship.last-error" | cut -f1)
  if [ -n "$logs" ]; then
    last=$(ls -1 "$dir/$SOURCE" | sed 's/\\.sealed$//' | grep -E '${BINLOG_FILE.source}' | sort | tail -n 1)
    # The newest file kept here, if the primary still has it; else its oldest (a gap, named at restore).
    if [ -z "$last" ] || ! printf '%s\\n' "$logs" | grep -qxF "$last"; then last=$(printf '%s\\n' "$logs" | head -n 1); fi
    mariadb-binlog --defaults-extra-file="$dir/ship.cnf" $TLS --read-from-remote-server --host="$HOST" --port="$PORT" \\
      --raw --stop-never --stop-never-slave-server-id="$SERVER_ID" --to-last-log --result-file="$into" "$last" 2>>"$dir/ship.last-error" &
    pid=$!
    echo $pid > "$dir/ship.pid"
    if [ "\${SEALED:-0}" = 1 ]; then
      while kill -0 "$pid" 2>/dev/null; do seal "$stage/$SOURCE" "$dir/$SOURCE"; sleep 0.5; done
      wait "$pid"
      seal "$stage/$SOURCE" "$dir/$SOURCE"
    else
      wait "$pid"
    fi
  fi
  sleep 1
done
`;
}

export interface ShippedFile {
  name: string;
  /** Bytes of the primary's file the store holds (sealed: those sealed). */
  bytes: number;
  /** Seconds since the epoch of its last change. */
  mtime: number;
  /** The GTID state before its first event (its Gtid_list event), e.g. `0-12-40`. */
  startsAfter: string;
  /** Kept as `<name>.sealed` (an off-site store): only the operator's key opens it. */
  sealed?: boolean;
}

export interface ShippedSource {
  source: string;
  files: ShippedFile[];
}

/** The files on a store that hold one shipped binary log file (for removal). */
export function shippedFileParts(path: string): string[] {
  return [path, `${path}.sealed`, `${path}.sealed-upto`, `${path}.gtid`];
}

/** Every source folder on `store` and its files, oldest first, each with its starting GTID state. */
export async function listShipped(remote: Remote, fleet: Fleet): Promise<ShippedSource[]> {
  const dir = binlogDir(fleet);
  const script = [
    `dir=${shq(dir)}`,
    '[ -d "$dir" ] || exit 0',
    'for src in "$dir"/*/; do',
    '  [ -d "$src" ] || continue',
    `  for f in $(ls -1 "$src" | grep -E '${SHIPPED_FILE.source}' | sort); do`,
    '    case "$f" in',
    // A sealed file: what the loop recorded beside it (the store cannot read inside it).
    '      *.sealed) n=${f%.sealed}; { read -r bytes _ < "$src$n.sealed-upto"; } 2>/dev/null || bytes=0; list=$(cat "$src$n.gtid" 2>/dev/null || true); sealed=1 ;;',
    // awk stops reading at the Gtid_list event: mariadb-binlog then ends on a closed pipe.
    '      *) n=$f; bytes=$(stat -c %s "$src$f"); sealed=0',
    '         list=$(mariadb-binlog --base64-output=never "$src$f" 2>/dev/null | awk \'/Gtid list/ { sub(/.*Gtid list \\[/, ""); sub(/\\].*/, ""); print; exit }\' || true) ;;',
    '    esac',
    '    printf "%s\\t%s\\t%s\\t%s\\t%s\\t%s\\n" "$(basename "$src")" "$n" "$bytes" "$(stat -c %Y "$src$f")" "$list" "$sealed"',
    '  done',
    'done',
  ].join('\n');
  const r = await runBash(remote, script, { timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`${remote.machine}: cannot list the shipped binary logs in ${dir}: ${r.stderr.trim().slice(-300)}`);
  const bySource = new Map<string, ShippedFile[]>();
  for (const line of r.stdout.split('\n').filter(Boolean)) {
    const [source, name, bytes, mtime, list, sealed] = line.split('\t');
    if (!source || !name) continue;
    const files = bySource.get(source) ?? [];
    // A file kept both ways (a store that went off-site) counts once: the clear copy is whole.
    if (files.at(-1)?.name === name) continue;
    files.push({ name, bytes: Number(bytes), mtime: Number(mtime), startsAfter: (list ?? '').replace(/\s/g, ''), ...(sealed === '1' ? { sealed: true } : {}) });
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
