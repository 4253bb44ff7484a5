/**
 * The failover bench's stopwatch: a loop inside the standby's own host that notes the first
 * instant its MariaDB takes writes (`@@global.read_only` = 0, the gate every application
 * account passes) and its Redis answers `ROLE` as a master. The same loop times lifeboat and
 * the peer tools, so neither side is judged by its own log. One clock serves every lab host
 * and the bench, so its epoch times compare with the fault's.
 */
import type { Lab } from '../../src/lab/lab.ts';
import { SECRET_FILES } from '../../src/lab/lab-secrets.ts';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

export interface StandbyTimes {
  /** Epoch ms of the first poll that found the database writable; null if none within the limit. */
  databaseWritableAt: number | null;
  redisPromotedAt: number | null;
  /** What the first poll found, before the fault: read_only and Redis's role. */
  before: { readOnly: string; redisRole: string };
}

export interface StandbyWatch {
  /** Resolves when both changed or the limit passed. */
  times(): Promise<StandbyTimes>;
}

const POLL_MS = 50;
const OUT = '/tmp/lifeboat-bench-standby-watch.out';

/** Polls every 50 ms for at most `limitS`; `redisHost` is where the Redis replica runs (may differ from `databaseHost`). */
export async function watchStandby(lab: Lab, o: { databaseHost: string; redisHost?: string; limitS: number }): Promise<StandbyWatch> {
  const redisPort = lab.fleet.redis?.port ?? 6379;
  const auth = lab.fleet.redis?.password ? `export REDISCLI_AUTH="$(cat ${join(lab.paths.secrets, SECRET_FILES.redisPassword)})"; ` : '';
  const polls = Math.ceil((o.limitS * 1000) / POLL_MS);
  // One client process each, asking over its one connection every POLL_MS: a process per poll
  // loaded the 2-core standby enough to slow the very recovery being timed. The reader marks
  // the change in a file and the feeds stop on the mark (the clients ignore a closed pipe).
  const database = `rm -f ${OUT}.db-seen; { i=0; while [ ! -e ${OUT}.db-seen ] && [ $i -lt ${polls} ]; do echo 'SELECT @@global.read_only, CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS UNSIGNED);'; sleep ${POLL_MS / 1000}; i=$((i+1)); done; } | mariadb --unbuffered -N -B 2>/dev/null | { first=1; while read -r ro at; do [ -n "$first" ] && { echo "before-db $ro"; first=; }; [ "$ro" = 0 ] && { echo "db $at"; touch ${OUT}.db-seen; break; }; done; }`;
  // Sentinel's promotion ends every client connection (CLIENT KILL) and redis-cli then exits:
  // it is started again, a second of polls at a time, until the mark or the limit.
  const redis = `${auth}rm -f ${OUT}.redis-seen; end=$(($(date +%s) + ${Math.ceil(o.limitS)})); while [ ! -e ${OUT}.redis-seen ] && [ "$(date +%s)" -lt $end ]; do redis-cli --no-auth-warning -h 127.0.0.1 -p ${redisPort} -r ${1000 / POLL_MS} -i ${POLL_MS / 1000} ROLE 2>/dev/null; sleep ${POLL_MS / 1000}; done | { first=1; while read -r line; do case "$line" in master|slave) [ -n "$first" ] && { echo "before-redis $line"; first=; }; [ "$line" = master ] && { echo "redis $(date +%s%3N)"; touch ${OUT}.redis-seen; break; };; esac; done; }`;
  const limit = { timeoutMs: (o.limitS + 30) * 1000 };
  const hosts = [...new Set([o.databaseHost, ...(o.redisHost ? [o.redisHost] : [])])];
  const files = hosts.map((h) => join(lab.paths.host(h), 'tmp', OUT.slice('/tmp/'.length)));
  await Promise.all(files.map((f) => rm(f, { force: true })));
  const runs = !o.redisHost
    ? [lab.exec(o.databaseHost, `( ${database} ) > ${OUT}`, limit)]
    : o.redisHost === o.databaseHost
      ? [lab.exec(o.databaseHost, `{ ( ${database} ) & ( ${redis} ); wait; } > ${OUT}`, limit)]
      : [lab.exec(o.databaseHost, `( ${database} ) > ${OUT}`, limit), lab.exec(o.redisHost, `( ${redis} ) > ${OUT}`, limit)];
  const read = async () => (await Promise.all(files.map((f) => readFile(f, 'utf8').catch(() => '')))).join('\n');
  // The first answers are the state before the fault: the fault must come after them.
  const deadline = Date.now() + 15_000;
  for (;;) {
    const seen = parseStandbyWatch(await read());
    if (seen.before.readOnly !== '' && (!o.redisHost || seen.before.redisRole !== '')) break;
    if (Date.now() > deadline) throw new Error(`failover bench: the standby stopwatch got no first answer within 15 s (${JSON.stringify(seen.before)})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    async times() {
      await Promise.all(runs);
      return parseStandbyWatch(await read());
    },
  };
}

export function parseStandbyWatch(out: string): StandbyTimes {
  const field = (name: string) => out.match(new RegExp(`^${name} (.*)$`, 'm'))?.[1]?.trim();
  const at = (name: string) => {
    const v = Number(field(name));
    return field(name) !== undefined && Number.isFinite(v) ? v : null;
  };
  return { databaseWritableAt: at('db'), redisPromotedAt: at('redis'), before: { readOnly: field('before-db') ?? '', redisRole: field('before-redis') ?? '' } };
}
