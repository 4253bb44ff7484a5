/**
 * Takes a machine's domains off (or back onto) the domain list the app clients read (runbook
 * §4.1 step 2, §4.3 step 4): `UPDATE t_app_dns SET status=… WHERE ip=…` in a transaction that
 * commits only after checking the changed row count matches what a locking SELECT saw.
 */
import type { RowDataPacket, ResultSetHeader, Connection } from 'mysql2/promise';
import { ActionError, type Action, type ActionContext, type Change } from './action.ts';
import { asActionError } from './action-errors.ts';
import { escapeId, fleetDatabase, qualified, withAdmin, type DbConnectOptions } from './db-connection.ts';

export type DomainStatus = 'online' | 'offline';

interface Statements {
  peek: string;
  lock: string;
  update: string;
  count: string;
  restore: string;
  value: number;
}

function statements(ctx: ActionContext, status: DomainStatus): Statements {
  const db = fleetDatabase(ctx);
  const t = db.domainTable;
  const table = qualified(db.schema, t.name);
  const [domain, ip, state] = [escapeId(t.domainColumn), escapeId(t.ipColumn), escapeId(t.statusColumn)];
  const select = `SELECT ${domain} AS domain, ${state} AS status FROM ${table} WHERE ${ip} = ?`;
  return {
    peek: select,
    lock: `${select} FOR UPDATE`,
    update: `UPDATE ${table} SET ${state} = ? WHERE ${ip} = ? AND ${state} <> ?`,
    count: `SELECT COUNT(*) AS n FROM ${table} WHERE ${ip} = ? AND ${state} <> ?`,
    restore: `UPDATE ${table} SET ${state} = ? WHERE ${ip} = ? AND ${domain} = ?`,
    value: status === 'online' ? t.online : t.offline,
  };
}

interface DomainRow {
  domain: string;
  status: number;
}

async function inTransaction<T>(db: Connection, work: () => Promise<T>): Promise<T> {
  await db.beginTransaction();
  try {
    const result = await work();
    await db.commit();
    return result;
  } catch (error) {
    // The original error is what the caller needs; a failed rollback ends with the connection.
    await db.rollback().catch(() => undefined);
    throw error;
  }
}

/** Sets every domain row of `ip` to `status`; `dbMachine` is the machine holding the writable database. */
export function setDomainsStatus(dbMachine: string, ip: string, status: DomainStatus, options: DbConnectOptions = {}): Action {
  let changed: DomainRow[] = [];

  return {
    title: `Mark the domains served by ${ip} ${status} in the domain list`,
    machines: [dbMachine],
    mutating: true,
    async plan(ctx) {
      const s = statements(ctx, status);
      const changes: Change[] = [
        { kind: 'sql', machine: dbMachine, sql: 'START TRANSACTION', params: [] },
        { kind: 'sql', machine: dbMachine, sql: s.lock, params: [ip] },
        { kind: 'sql', machine: dbMachine, sql: s.update, params: [s.value, ip, s.value] },
        { kind: 'note', machine: dbMachine, text: 'COMMIT only if the UPDATE changed exactly the rows the SELECT found not yet in that status; otherwise ROLLBACK' },
      ];
      try {
        const rows = await withAdmin(ctx, dbMachine, async (db) => (await db.query<RowDataPacket[]>(s.peek, [ip]))[0] as DomainRow[], options);
        const pending = rows.filter((row) => Number(row.status) !== s.value).map((row) => row.domain);
        changes.push({ kind: 'note', machine: dbMachine, text: `${rows.length} domain(s) on ${ip}; ${pending.length} would change${pending.length ? `: ${pending.join(', ')}` : ''}` });
      } catch (error) {
        changes.push({ kind: 'note', machine: dbMachine, text: `current rows unknown: ${(error as Error).message}` });
      }
      return changes;
    },
    async apply(ctx) {
      const s = statements(ctx, status);
      const result = await asActionError('apply-failed', 'domain list', () => withAdmin(ctx, dbMachine, (db) =>
        inTransaction(db, async () => {
          const [rows] = await db.query<RowDataPacket[]>(s.lock, [ip]);
          const pending = (rows as DomainRow[]).filter((row) => Number(row.status) !== s.value);
          const [update] = await db.query<ResultSetHeader>(s.update, [s.value, ip, s.value]);
          if (update.affectedRows !== pending.length) {
            throw new ActionError('apply-failed', `domain list: the UPDATE changed ${update.affectedRows} row(s) but ${pending.length} were expected; rolled back, nothing changed`);
          }
          return { total: rows.length, pending };
        }),
      options));
      // Keep what was changed first: a re-apply finds nothing pending and must not forget it.
      if (result.pending.length > 0) changed = [...changed, ...result.pending.map((row) => ({ domain: row.domain, status: Number(row.status) }))];
      ctx.log(`${dbMachine}: ${result.pending.length} of ${result.total} domain(s) on ${ip} set ${status}`);
    },
    async verify(ctx) {
      const s = statements(ctx, status);
      const left = await asActionError('verify-failed', 'domain list', () => withAdmin(ctx, dbMachine, async (db) => {
        const [rows] = await db.query<RowDataPacket[]>(s.count, [ip, s.value]);
        return Number(rows[0]?.n);
      }, options));
      if (left !== 0) throw new ActionError('verify-failed', `domain list: ${left} domain(s) on ${ip} are still not ${status}`);
    },
    async undo(ctx) {
      const s = statements(ctx, status);
      if (changed.length === 0) return;
      await asActionError('undo-failed', 'domain list', () => withAdmin(ctx, dbMachine, (db) =>
        inTransaction(db, async () => {
          for (const row of changed) await db.query(s.restore, [row.status, ip, row.domain]);
        }),
      options));
      changed = [];
    },
  };
}

export interface DomainListRow {
  domain: string;
  ip: string;
  state: DomainStatus | 'other';
}

/** The domain list as the app clients read it: every row, with its state in the fleet's terms. */
export async function readDomainList(ctx: ActionContext, dbMachine: string, options: DbConnectOptions = {}): Promise<DomainListRow[]> {
  const db = fleetDatabase(ctx);
  const t = db.domainTable;
  const sql = `SELECT ${escapeId(t.domainColumn)} AS domain, ${escapeId(t.ipColumn)} AS ip, ${escapeId(t.statusColumn)} AS status FROM ${qualified(db.schema, t.name)} ORDER BY 1 LIMIT 1000`;
  return withAdmin(ctx, dbMachine, async (conn) => {
    const [rows] = await conn.query<RowDataPacket[]>(sql);
    return rows.map((r) => ({
      domain: String(r.domain), ip: String(r.ip),
      state: Number(r.status) === t.online ? 'online' as const : Number(r.status) === t.offline ? 'offline' as const : 'other' as const,
    }));
  }, options);
}

interface PlacedRow { domain: string; ip: string; status: number }

/**
 * Puts `domains` on the domain list, online at `ip` (a new edge's own domains, registered in
 * advance with their A records at its address): a row that exists is pointed at `ip` and set
 * online, a missing one is inserted. Refused, with nothing changed, when one of them is online
 * at another address: that domain serves users through another machine. One transaction;
 * undo puts back the rows as they were (deletes the ones it inserted).
 */
export function bringDomainsOnline(dbMachine: string, ip: string, wanted: readonly string[], options: DbConnectOptions = {}): Action {
  const domains = [...new Set(wanted)];
  if (domains.length === 0) throw new TypeError('bringDomainsOnline: no domain given');
  let before: { rows: PlacedRow[]; inserted: string[] } | undefined;
  const sql = (ctx: ActionContext) => {
    const db = fleetDatabase(ctx);
    const t = db.domainTable;
    const table = qualified(db.schema, t.name);
    const [domain, address, state] = [escapeId(t.domainColumn), escapeId(t.ipColumn), escapeId(t.statusColumn)];
    const list = domains.map(() => '?').join(', ');
    const select = `SELECT ${domain} AS domain, ${address} AS ip, ${state} AS status FROM ${table} WHERE ${domain} IN (${list})`;
    return {
      online: t.online,
      peek: select,
      lock: `${select} FOR UPDATE`,
      update: `UPDATE ${table} SET ${address} = ?, ${state} = ? WHERE ${domain} = ?`,
      insert: `INSERT INTO ${table} (${domain}, ${address}, ${state}) VALUES (?, ?, ?)`,
      remove: `DELETE FROM ${table} WHERE ${domain} = ?`,
      // DISTINCT: a table without a unique key on the domain may hold a domain twice.
      count: `SELECT COUNT(DISTINCT ${domain}) AS n FROM ${table} WHERE ${domain} IN (${list}) AND ${address} = ? AND ${state} = ?`,
    };
  };
  /** Rows online elsewhere: the refusal, before anything is written. */
  const elsewhere = (rows: PlacedRow[], online: number) => rows.filter((r) => Number(r.status) === online && r.ip !== ip);
  const refusal = (taken: PlacedRow[]) => new ActionError('precondition',
    `domain list: ${taken.map((r) => `${r.domain} is online at ${r.ip}`).join(', ')}; it serves users through that machine, so it is not moved to ${ip}. Take it off there first, or list other domains for this machine in the fleet file`);

  return {
    title: `Put ${domains.join(', ')} online at ${ip} in the domain list`,
    machines: [dbMachine],
    mutating: true,
    async plan(ctx) {
      const s = sql(ctx);
      const changes: Change[] = [
        { kind: 'sql', machine: dbMachine, sql: 'START TRANSACTION', params: [] },
        { kind: 'sql', machine: dbMachine, sql: s.lock, params: [...domains] },
      ];
      try {
        const rows = await withAdmin(ctx, dbMachine, async (db) => (await db.query<RowDataPacket[]>(s.peek, [...domains]))[0] as PlacedRow[], options);
        const taken = elsewhere(rows, s.online);
        if (taken.length) changes.push({ kind: 'note', machine: dbMachine, text: `refused: ${refusal(taken).message}` });
        for (const d of domains) {
          const row = rows.find((r) => r.domain === d);
          if (!row) changes.push({ kind: 'sql', machine: dbMachine, sql: s.insert, params: [d, ip, s.online] });
          else if (row.ip !== ip || Number(row.status) !== s.online) changes.push({ kind: 'sql', machine: dbMachine, sql: s.update, params: [ip, s.online, d] });
          else changes.push({ kind: 'note', machine: dbMachine, text: `${d} is already online at ${ip}` });
        }
      } catch (error) {
        changes.push({ kind: 'note', machine: dbMachine, text: `current rows unknown: ${(error as Error).message}; each domain is inserted or updated to ${ip}, online` });
      }
      changes.push({ kind: 'sql', machine: dbMachine, sql: 'COMMIT', params: [] });
      return changes;
    },
    async apply(ctx) {
      const s = sql(ctx);
      const result = await asActionError('apply-failed', 'domain list', () => withAdmin(ctx, dbMachine, (db) =>
        inTransaction(db, async () => {
          const rows = (await db.query<RowDataPacket[]>(s.lock, [...domains]))[0] as PlacedRow[];
          const taken = elsewhere(rows, s.online);
          if (taken.length) throw refusal(taken);
          const inserted: string[] = [];
          let changed = 0;
          for (const d of domains) {
            const row = rows.find((r) => r.domain === d);
            if (!row) {
              await db.query(s.insert, [d, ip, s.online]);
              inserted.push(d);
              changed += 1;
            } else if (row.ip !== ip || Number(row.status) !== s.online) {
              await db.query(s.update, [ip, s.online, d]);
              changed += 1;
            }
          }
          return { rows: rows.map((r) => ({ domain: String(r.domain), ip: String(r.ip), status: Number(r.status) })), inserted, changed };
        }),
      options));
      // The first application's view is what undo restores: a re-apply finds nothing to change.
      before ??= { rows: result.rows, inserted: result.inserted };
      ctx.log(`${dbMachine}: ${result.changed} of ${domains.length} domain(s) put online at ${ip}${result.inserted.length ? ` (${result.inserted.length} new row(s))` : ''}`);
    },
    async verify(ctx) {
      const s = sql(ctx);
      const placed = await asActionError('verify-failed', 'domain list', () => withAdmin(ctx, dbMachine, async (db) => {
        const [rows] = await db.query<RowDataPacket[]>(s.count, [...domains, ip, s.online]);
        return Number(rows[0]?.n);
      }, options));
      if (placed !== domains.length) throw new ActionError('verify-failed', `domain list: ${domains.length - placed} of ${domains.length} domain(s) are not online at ${ip}`);
    },
    async undo(ctx) {
      const s = sql(ctx);
      const was = before;
      if (!was) return;
      await asActionError('undo-failed', 'domain list', () => withAdmin(ctx, dbMachine, (db) =>
        inTransaction(db, async () => {
          for (const d of was.inserted) await db.query(s.remove, [d]);
          for (const r of was.rows) await db.query(s.update, [r.ip, r.status, r.domain]);
        }),
      options));
      before = undefined;
    },
  };
}
