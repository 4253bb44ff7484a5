/**
 * How far behind each store's copy of the primary's binary log is: the RPO of a restore from
 * it. A caught-up copy ends where the primary writes now (same file, same size as the
 * primary's position); one behind says by how many bytes, since when, and the last GTID it
 * holds. What cannot be read is said, never taken for "caught up".
 */
import type mysql from 'mysql2/promise';
import type { ActionContext } from '../actions/action.ts';
import { withAdmin } from '../actions/db-connection.ts';
import { machinesWithRole } from '../fleet/model.ts';
import { shq } from '../remote/remote.ts';
import { binlogDir, listShipped, shippingStores } from './binlogs.ts';

export interface BinlogCopyStatus {
  store: string;
  ok: boolean;
  /** Caught up, behind (by `behindSeconds` when known), or not known (a reading failed). */
  state: 'caught-up' | 'behind' | 'unknown';
  /** The primary the copy follows. */
  source?: string;
  /** Seconds since the copy last received bytes; 0 when it is caught up. */
  behindSeconds?: number;
  behindBytes?: number;
  /** The last transaction the copy holds. */
  gtid?: string;
  detail: string;
}

export async function binlogCopies(ctx: ActionContext): Promise<BinlogCopyStatus[]> {
  const stores = shippingStores(ctx.fleet);
  const primary = machinesWithRole(ctx.fleet, 'db-primary')[0];
  if (!primary || stores.length === 0) return [];
  let master: { file: string; position: number; gtid: string } | undefined;
  let masterError = '';
  try {
    master = await withAdmin(ctx, primary.name, async (db) => {
      const [rows] = await db.query<mysql.RowDataPacket[]>('SHOW MASTER STATUS');
      const [pos] = await db.query<mysql.RowDataPacket[]>('SELECT @@gtid_binlog_pos AS g');
      return { file: String(rows[0]?.File ?? ''), position: Number(rows[0]?.Position ?? 0), gtid: String(pos[0]?.g ?? '') };
    }, { connectTimeoutMs: 3000 });
  } catch (error) {
    masterError = (error as Error).message;
  }
  return Promise.all(stores.filter((s) => s.name !== primary.name).map(async (store): Promise<BinlogCopyStatus> => {
    try {
      const shipped = (await listShipped(ctx.remote(store.name), ctx.fleet)).find((s) => s.source === primary.name);
      const newest = shipped?.files.at(-1);
      if (!newest) return { store: store.name, ok: false, state: 'behind', source: primary.name, detail: `holds no binary log of ${primary.name}` };
      const age = Math.max(0, Math.round(Date.now() / 1000 - newest.mtime));
      if (!master) return { store: store.name, ok: false, state: 'unknown', source: primary.name, behindSeconds: age, detail: `newest ${newest.name} (${newest.bytes} bytes, ${age} s ago); the primary's position cannot be read: ${masterError}` };
      if (newest.name === master.file && newest.bytes >= master.position) {
        return { store: store.name, ok: true, state: 'caught-up', source: primary.name, behindSeconds: 0, behindBytes: 0, gtid: master.gtid, detail: `caught up with ${primary.name} (${master.file} at ${master.position}, GTID ${master.gtid || '-'})` };
      }
      const behindBytes = newest.name === master.file ? master.position - newest.bytes : undefined;
      // Only a copy that is behind is read for its last transaction; a sealed one cannot be, there.
      const last = newest.sealed ? { stdout: '' } : await ctx.remote(store.name).run(`mariadb-binlog ${shq(`${binlogDir(ctx.fleet)}/${primary.name}/${newest.name}`)} 2>/dev/null | grep -oE 'GTID [0-9]+-[0-9]+-[0-9]+' | tail -n 1 | cut -d' ' -f2`, { timeoutMs: 60_000 });
      const gtid = last.stdout.trim() || undefined;
      return {
        store: store.name, ok: false, state: 'behind', source: primary.name, behindSeconds: age, ...(behindBytes !== undefined ? { behindBytes } : {}), ...(gtid ? { gtid } : {}),
        detail: `BEHIND ${primary.name}: holds ${newest.name} up to ${newest.bytes} bytes, last change ${age} s ago, last GTID ${gtid ?? (newest.sealed ? '(sealed: read by a restore)' : '-')}; the primary writes ${master.file} at ${master.position} (GTID ${master.gtid || '-'})`,
      };
    } catch (error) {
      return { store: store.name, ok: false, state: 'unknown', source: primary.name, detail: `cannot be read: ${(error as Error).message}` };
    }
  }));
}
