/**
 * What a MariaDB server says about its replication: threads, source, lag and the GTID
 * positions that decide whether promoting it would lose anything.
 */
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { ActionError, type ActionContext } from './action.ts';
import { fleetDatabase, withAdmin, type DbConnectOptions } from './db-connection.ts';

export interface ReplicaStatus {
  machine: string;
  /** A replication connection is configured (the server is, or was told to be, a replica). */
  replicating: boolean;
  ioThread: 'running' | 'connecting' | 'stopped';
  sqlThread: 'running' | 'stopped';
  source?: { host: string; port: number };
  /** Null when the SQL thread is not running (MariaDB's NULL). */
  secondsBehind: number | null;
  /** GTIDs the IO thread received into the relay log (`Gtid_IO_Pos`). */
  gtidReceived: string;
  /** GTIDs the SQL thread applied (`@@gtid_slave_pos`). */
  gtidApplied: string;
  gtidBinlog: string;
  gtidCurrent: string;
  readOnly: boolean;
  lastIoError: string;
  lastSqlError: string;
  /** When the IO thread last failed, as the server recorded it. */
  lastIoErrorAt?: string;
}

function threadState(value: unknown): 'running' | 'connecting' | 'stopped' {
  if (value === 'Yes') return 'running';
  if (value === 'Connecting') return 'connecting';
  return 'stopped';
}

/** Reads the status over an open admin connection. MariaDB only (GTIDs differ on MySQL). */
export async function readReplicaStatus(db: Connection, machine: string): Promise<ReplicaStatus> {
  const [rows] = await db.query<RowDataPacket[]>('SHOW ALL SLAVES STATUS');
  // lifeboat uses the default (unnamed) connection; a named one alone is still reported.
  const row = rows.find((r) => r.Connection_name === '') ?? rows[0];
  const [vars] = await db.query<RowDataPacket[]>(
    'SELECT @@global.gtid_slave_pos AS applied, @@global.gtid_binlog_pos AS binlog, @@global.gtid_current_pos AS current, @@global.read_only AS ro',
  );
  const v = (vars[0] ?? {}) as Record<string, unknown>;
  const status: ReplicaStatus = {
    machine,
    replicating: row !== undefined,
    ioThread: threadState(row?.Slave_IO_Running),
    sqlThread: row?.Slave_SQL_Running === 'Yes' ? 'running' : 'stopped',
    secondsBehind: row?.Seconds_Behind_Master === null || row?.Seconds_Behind_Master === undefined ? null : Number(row.Seconds_Behind_Master),
    gtidReceived: String(row?.Gtid_IO_Pos ?? ''),
    gtidApplied: String(v.applied ?? ''),
    gtidBinlog: String(v.binlog ?? ''),
    gtidCurrent: String(v.current ?? ''),
    readOnly: Number(v.ro) === 1,
    lastIoError: String(row?.Last_IO_Error ?? ''),
    lastSqlError: String(row?.Last_SQL_Error ?? ''),
  };
  if (row?.Last_IO_Error_Timestamp) status.lastIoErrorAt = String(row.Last_IO_Error_Timestamp);
  if (row?.Master_Host) status.source = { host: String(row.Master_Host), port: Number(row.Master_Port) };
  return status;
}

export function requireMariadb(ctx: ActionContext): void {
  if (fleetDatabase(ctx).engine !== 'mariadb') {
    throw new ActionError('not-supported', 'replication steps speak MariaDB GTIDs; MySQL (gtid_executed sets) is not supported yet');
  }
}

export async function replicaStatus(ctx: ActionContext, machine: string, options?: DbConnectOptions): Promise<ReplicaStatus> {
  requireMariadb(ctx);
  return withAdmin(ctx, machine, (db) => readReplicaStatus(db, machine), options);
}
