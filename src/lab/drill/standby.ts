/**
 * Which machine, at the end of a drill, could take over if the serving primary died next: a
 * MariaDB replica of it with both threads running, semi-sync acknowledging, caught up with
 * the primary's GTID position, and holding every row (CHECKSUM TABLE of every table of the
 * fleet's schema equal on both). Read inside the lab hosts over their sockets, as root.
 */
import type { Lab } from '../lab.ts';

export interface StandbyReport {
  /** The machine, or null when no machine is such a replica. */
  machine: string | null;
  /** Per machine looked at: why it is (or is not) the standby. */
  checked: Record<string, string>;
}

const SQL_IDENT = /^[A-Za-z0-9_$]+$/;
/** The same GTID positions, whatever the order of their domains. */

/** The answer, or undefined when there is none (no MariaDB, or the host is down). */
async function sql(lab: Lab, host: string, text: string, withNames = false): Promise<string | undefined> {
  try {
    const r = await lab.exec(host, `mariadb ${withNames ? '' : '-N '}-B --connect-timeout=10`, { stdin: text, timeoutMs: 60_000 });
    return r.code === 0 ? r.stdout.trim() : undefined;
  } catch {
    return undefined;
  }
}

export async function findStandby(lab: Lab, primary: string, schema: string): Promise<StandbyReport> {
  const checked: Record<string, string> = {};
  if (!SQL_IDENT.test(schema)) return { machine: null, checked: { [primary]: `schema ${schema} is not a plain identifier` } };
  const primaryAddress = lab.host(primary).address;
  const position = await sql(lab, primary, 'SELECT @@gtid_binlog_pos;');
  if (position === undefined) return { machine: null, checked: { [primary]: 'the serving primary does not answer' } };
  const tables = (await sql(lab, primary, `SELECT table_name FROM information_schema.tables WHERE table_schema = '${schema}' AND table_type = 'BASE TABLE' ORDER BY 1;`))?.split('\n').filter((t) => SQL_IDENT.test(t)) ?? [];
  const checksumSql = tables.length ? `CHECKSUM TABLE ${tables.map((t) => `\`${schema}\`.\`${t}\``).join(', ')};` : 'SELECT 1;';
  /**
   * Both sides at the same transaction, with the business still writing: the primary is held
   * under a global read lock by a client of its own (its position and checksums read, then a
   * bounded sleep), the replica, still replicating, waits for that position and is read, and
   * the lock's client is ended. The replica's threads are never stopped: a START SLAVE UNTIL
   * after a stop left MariaDB 10.11's semi-sync dump thread "waiting to finalize termination"
   * and the replica stuck (seen in CI, reproduced in the lab). Writes wait while the lock is
   * held: well under a second at a drill's end, 30 s at most whatever happens.
   */
  const sameRowsAtOnePoint = async (replica: string): Promise<{ ok: true; at: string } | { ok: false; why: string }> => {
    const out = `/tmp/lifeboat-standby-lock-${process.pid}-${Date.now()}`;
    const script = `FLUSH TABLES WITH READ LOCK; SELECT CONCAT('pos ', @@gtid_binlog_pos); ${checksumSql} SELECT 'lifeboat-checksums-done'; SELECT SLEEP(30);`;
    // The statements go in a file first (no quoting of identifiers through two shells).
    const wrote = await lab.exec(primary, `umask 077 && cat > ${out}.sql`, { stdin: `${script}\n`, timeoutMs: 15_000 });
    if (wrote.code !== 0) return { ok: false, why: `${primary}: ${wrote.stderr.trim()}` };
    const held = await lab.exec(primary, `setsid sh -c 'timeout 40 mariadb -N -B -n --connect-timeout=10 < ${out}.sql > ${out} 2>&1' < /dev/null > /dev/null 2>&1 & echo $!`, { timeoutMs: 30_000 });
    const pid = held.stdout.trim();
    if (held.code !== 0 || !/^\d+$/.test(pid)) return { ok: false, why: `${primary} could not be held under a read lock: ${held.stderr.trim()}` };
    try {
      let primarySide = '';
      const until = Date.now() + 20_000;
      while (Date.now() < until) {
        primarySide = (await lab.exec(primary, `cat ${out} 2>/dev/null`, { timeoutMs: 15_000 })).stdout;
        if (primarySide.includes('lifeboat-checksums-done')) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const at = /^pos (\S*)$/m.exec(primarySide)?.[1];
      if (!primarySide.includes('lifeboat-checksums-done') || at === undefined) return { ok: false, why: `${primary}'s rows could not be read under a read lock: ${primarySide.trim().slice(-200)}` };
      const theirs = primarySide.split('\n').filter((l) => l.trim() && !l.startsWith('pos ') && !l.includes('lifeboat-checksums-done')).join('\n');
      const safeAt = at.replace(/[^0-9,-]/g, '');
      const waited = await sql(lab, replica, `SELECT MASTER_GTID_WAIT('${safeAt}', 20);`);
      if (waited !== '0') return { ok: false, why: `did not reach ${safeAt} within 20 s while ${primary} held still (${waited ?? 'no answer'})` };
      const mine = await sql(lab, replica, checksumSql);
      return mine === theirs ? { ok: true, at: safeAt } : { ok: false, why: `its rows differ from ${primary}'s at ${safeAt} (CHECKSUM TABLE)` };
    } finally {
      // The lock's own client, by the id this check started it with: its connection ends, the lock goes.
      await lab.exec(primary, `pkill -TERM -P ${pid} 2>/dev/null; kill ${pid} 2>/dev/null; rm -f ${out} ${out}.sql; true`, { timeoutMs: 15_000 });
    }
  };
  let found: string | null = null;
  for (const h of lab.hosts.filter((x) => x.name !== primary && (x.kind === 'fleet' || x.kind === 'spare'))) {
    // Batch output with names: a header line, then one line per connection (tab-separated).
    const status = await sql(lab, h.name, 'SHOW ALL SLAVES STATUS;', true);
    if (status === undefined) { checked[h.name] = 'no MariaDB answers (or the machine is down)'; continue; }
    const [header = '', first = ''] = status.split('\n');
    const names = header.split('\t');
    const values = first.split('\t');
    const field = (name: string) => { const i = names.indexOf(name); return i >= 0 ? values[i]?.trim() || undefined : undefined; };
    if (!field('Master_Host')) { checked[h.name] = 'not a replica'; continue; }
    if (field('Master_Host') !== primaryAddress) { checked[h.name] = `replicates from ${field('Master_Host')}, not ${primary}`; continue; }
    if (field('Slave_IO_Running') !== 'Yes' || field('Slave_SQL_Running') !== 'Yes') { checked[h.name] = `threads IO ${field('Slave_IO_Running')}, SQL ${field('Slave_SQL_Running')}`; continue; }
    const semi = await sql(lab, h.name, "SHOW STATUS LIKE 'Rpl_semi_sync_slave_status';");
    if (!/\tON$/.test(semi ?? '')) { checked[h.name] = 'semi-sync is not on: it does not acknowledge writes'; continue; }
    const waited = await sql(lab, h.name, `SELECT MASTER_GTID_WAIT('${position.replace(/[^0-9,-]/g, '')}', 20);`);
    if (waited !== '0') { checked[h.name] = `not caught up with ${position} within 20 s`; continue; }
    // A comparison that could not be made (a client that did not connect in time on a loaded
    // machine, the SQL thread not started) is made again; rows that differ are final.
    let same = await sameRowsAtOnePoint(h.name);
    for (let attempt = 2; attempt <= 3 && !same.ok && !/rows differ/.test(same.why); attempt++) same = await sameRowsAtOnePoint(h.name);
    if (!same.ok) { checked[h.name] = same.why; continue; }
    checked[h.name] = `semi-sync replica of ${primary}, caught up at ${position}, every row of ${tables.length} table(s) the same at ${same.at}`;
    found ??= h.name;
  }
  return { machine: found, checked };
}
