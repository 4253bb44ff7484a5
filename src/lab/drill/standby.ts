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

/** The answer, or undefined when there is none (no MariaDB, or the host is down). */
async function sql(lab: Lab, host: string, text: string, withNames = false): Promise<string | undefined> {
  try {
    const r = await lab.exec(host, `mariadb ${withNames ? '' : '-N '}-B --connect-timeout=3`, { stdin: text, timeoutMs: 60_000 });
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
  const checksum = async (host: string) => tables.length ? sql(lab, host, `CHECKSUM TABLE ${tables.map((t) => `\`${schema}\`.\`${t}\``).join(', ')};`) : '';
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
    const [mine, theirs] = await Promise.all([checksum(h.name), checksum(primary)]);
    if (mine === undefined || theirs === undefined || mine !== theirs) { checked[h.name] = `its rows differ from ${primary}'s (CHECKSUM TABLE)`; continue; }
    checked[h.name] = `semi-sync replica of ${primary}, caught up at ${position}, every row of ${tables.length} table(s) the same`;
    found ??= h.name;
  }
  return { machine: found, checked };
}
