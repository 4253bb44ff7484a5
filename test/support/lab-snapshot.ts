/**
 * Everything a recovery step could change in a lab, read from inside each fleet host and
 * spare as an operator would see it, in a form `assert.deepEqual` compares: file digests of
 * the site and the daemons' configuration, supervisor program states, the domain list,
 * MariaDB's read_only and replication, Redis's role. A test takes one before and one after
 * something that must change nothing (a plan, a refused recovery) and compares them.
 */
import type { Lab } from '../../src/lab/lab.ts';
import { shq } from '../../src/remote/remote.ts';

/** Folders whose every file is digested (upload data excluded: the sync moves it on its own). */
export const SNAPSHOT_FOLDERS = ['/wwwroot', '/etc/nginx', '/etc/supervisor/conf.d', '/etc/cron.d', '/etc/mysql/mariadb.conf.d', '/etc/redis'] as const;

export interface HostSnapshot {
  /** path → sha256, every regular file under SNAPSHOT_FOLDERS. */
  files: Record<string, string>;
  /** supervisor program → state (RUNNING, STOPPED…); empty when supervisord does not run. */
  programs: Record<string, string>;
  /** Present when mariadbd runs on the host. */
  mariadb?: { readOnly: string; replicating: boolean; domains: string[] };
  /** `role:master` / `role:slave`, when redis-server runs on the host. */
  redisRole?: string;
}

export type LabSnapshot = Record<string, HostSnapshot>;

const MARK = '@@lifeboat-snapshot@@';

/** One shell script per host: sections separated by MARK lines, so one exec reads it all. */
function script(address: string, excluded: readonly string[]): string {
  const prune = excluded.map((d) => `-path ${shq(d)} -prune -o`).join(' ');
  const sql = (q: string) => `mariadb -N -B -e ${shq(q)} 2>&1`;
  return [
    `echo ${MARK}files`,
    `for d in ${SNAPSHOT_FOLDERS.join(' ')}; do [ -d "$d" ] && find "$d" ${prune} -type f -print0; done | sort -z | xargs -0r sha256sum`,
    `echo ${MARK}programs`,
    // No supervisord (a spare) prints nothing: the states are what matters, not the error.
    `if pgrep -x supervisord >/dev/null; then supervisorctl -c /etc/supervisor/supervisord.conf status 2>&1 | awk '{print $1, $2}'; fi`,
    `echo ${MARK}mariadb`,
    `if pgrep -x mariadbd >/dev/null; then`,
    `  ${sql('SELECT @@read_only')}`,
    `  echo ${MARK}slave`,
    `  ${sql('SHOW SLAVE STATUS')} | wc -l`,
    `  echo ${MARK}domains`,
    `  ${sql('SELECT domain, ip, status FROM speed.t_app_dns ORDER BY domain')}`,
    `fi`,
    `echo ${MARK}redis`,
    `if pgrep -x redis-server >/dev/null; then timeout 5 redis-cli -h ${shq(address)} INFO replication | grep '^role' | tr -d '\\r'; fi`,
    `echo ${MARK}end`,
  ].join('\n');
}

function sections(stdout: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of stdout.split('\n')) {
    if (line.startsWith(MARK)) {
      current = [];
      out.set(line.slice(MARK.length), current);
    } else if (current && line.trim() !== '') {
      current.push(line);
    }
  }
  return out;
}

export async function snapshotHost(lab: Lab, name: string): Promise<HostSnapshot> {
  const host = lab.host(name);
  const excluded = Object.values(lab.fleet.services).flatMap((s) => s.dataDirs);
  const r = await lab.exec(name, script(host.address, excluded), { timeoutMs: 60_000 });
  const parts = sections(r.stdout);
  if (!parts.has('end')) throw new Error(`snapshot of ${name} did not finish (exit ${r.code}): ${r.stderr.trim().slice(-500)}`);
  const files: Record<string, string> = {};
  for (const line of parts.get('files') ?? []) {
    const m = /^([0-9a-f]{64})\s+(.+)$/.exec(line);
    if (!m) throw new Error(`snapshot of ${name}: unexpected sha256sum line ${JSON.stringify(line)}`);
    files[m[2]!] = m[1]!;
  }
  const programs: Record<string, string> = {};
  for (const line of parts.get('programs') ?? []) {
    const [program, state] = line.split(' ');
    if (program) programs[program] = state ?? '';
  }
  const snapshot: HostSnapshot = { files, programs };
  const readOnly = parts.get('mariadb');
  if (readOnly && readOnly.length > 0) {
    snapshot.mariadb = {
      readOnly: readOnly.join(' '),
      replicating: Number((parts.get('slave') ?? ['0'])[0]) > 0,
      domains: parts.get('domains') ?? [],
    };
  }
  const role = parts.get('redis');
  if (role && role.length > 0) snapshot.redisRole = role.join(' ');
  return snapshot;
}

/** Every fleet machine and spare of the lab, read side by side (but `except`: hosts that are down). */
export async function snapshot(lab: Lab, except: readonly string[] = []): Promise<LabSnapshot> {
  const names = lab.hosts.filter((h) => (h.kind === 'fleet' || h.kind === 'spare') && !except.includes(h.name)).map((h) => h.name);
  const hosts = await Promise.all(names.map(async (n) => [n, await snapshotHost(lab, n)] as const));
  return Object.fromEntries(hosts);
}
