/** Does MariaDB / Redis answer on a machine, and in which role (primary or replica)? */
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import type { Fleet, Machine } from '../fleet/schema.ts';
import type { SecretResolver } from '../fleet/secrets.ts';
import { redisTlsOptions } from '../remote/tls.ts';
import { connectMysql } from '../remote/mysql-connect.ts';

export interface DataCheck {
  ok: boolean;
  /** The server answered (ok may still be false: a replica that is not replicating). */
  answers?: boolean;
  detail: string;
  /** What the server says it is. */
  role?: 'primary' | 'replica';
  readOnly?: boolean;
  /** MariaDB replication as this server sees it (absent for Redis). */
  replication?: ReplicationState;
  /** Set when acknowledged writes are at risk: what to know, in one sentence. */
  risk?: string;
  /** Which of the machine's links cross the network encrypted (fleet `tls`). */
  wire?: WireState;
}

/** `tls` (with the protocol), `clear`, or for a replica's link whether it checks the server. */
export interface WireState {
  /** lifeboat's own connection to the server. */
  connection: string;
  /** A replica's link to its primary. */
  link?: 'tls, server verified' | 'tls, server not verified' | 'tls, certificate checked, name not' | 'clear' | 'unknown';
}

function linkWire(sslAllowed: unknown, verify: unknown): NonNullable<WireState['link']> {
  if (String(sslAllowed) !== 'Yes') return 'clear';
  return String(verify) === 'Yes' ? 'tls, server verified' : 'tls, server not verified';
}

export interface ReplicationState {
  /** On a primary: semi-sync `on`, fell back to `async`, or not enabled at all. */
  semiSync?: 'on' | 'async' | 'off';
  /** On a primary: transactions committed without a replica's acknowledgement (since start). */
  unacknowledgedTransactions?: number;
  /** On a primary: replicas acknowledging right now. */
  semiSyncClients?: number;
  /** On a replica: the IO thread (receiving) and SQL thread (applying). */
  receiving?: 'running' | 'connecting' | 'stopped';
  applying?: 'running' | 'stopped';
  /** GTIDs received into the relay log vs applied. */
  gtidReceived?: string;
  gtidApplied?: string;
  /** When the IO thread last failed (the server's own record), if it did. */
  receivingErrorAt?: string;
  lastError?: string;
}

const TIMEOUT_MS = 2000;

export async function checkMariadb(fleet: Fleet, m: Machine, secret: SecretResolver): Promise<DataCheck> {
  const db = fleet.database!;
  let password: string;
  try {
    password = await secret(db.adminPassword);
  } catch (error) {
    return { ok: false, detail: `credentials unavailable: ${(error as Error).message}` };
  }
  let connection: mysql.Connection | undefined;
  try {
    // A status read waits seconds, not minutes, for a server that hangs.
    connection = await connectMysql(fleet, m, db.adminUser, password, { connectTimeoutMs: TIMEOUT_MS, queryTimeoutMs: 5000 });
    const [rows] = await connection.query<mysql.RowDataPacket[]>('SELECT @@read_only AS readOnly, @@version AS version, @@global.gtid_slave_pos AS applied');
    const [replicas] = await connection.query<mysql.RowDataPacket[]>('SHOW ALL SLAVES STATUS');
    const [semi] = await connection.query<mysql.RowDataPacket[]>("SHOW GLOBAL STATUS WHERE Variable_name IN ('Rpl_semi_sync_master_status', 'Rpl_semi_sync_master_no_tx', 'Rpl_semi_sync_master_clients')");
    const [semiVars] = await connection.query<mysql.RowDataPacket[]>("SHOW GLOBAL VARIABLES WHERE Variable_name = 'rpl_semi_sync_master_enabled'");
    const [ssl] = await connection.query<mysql.RowDataPacket[]>("SHOW SESSION STATUS LIKE 'Ssl_version'");
    const sslVersion = String(ssl[0]?.Value ?? '');
    const connectionWire = sslVersion ? `tls (${sslVersion})` : 'clear';
    const status = Object.fromEntries(semi.map((r) => [String(r.Variable_name).toLowerCase(), String(r.Value)]));
    const enabled = String(semiVars[0]?.Value ?? 'OFF').toUpperCase() === 'ON';
    const readOnly = Number(rows[0]?.readOnly) === 1;
    const replica = replicas.find((r) => r.Connection_name === '') ?? replicas[0];
    if (!replica) {
      const replication: ReplicationState = {
        semiSync: !enabled ? 'off' : String(status.rpl_semi_sync_master_status).toUpperCase() === 'ON' ? 'on' : 'async',
        unacknowledgedTransactions: Number(status.rpl_semi_sync_master_no_tx ?? 0),
        semiSyncClients: Number(status.rpl_semi_sync_master_clients ?? 0),
      };
      const risk = replication.semiSync === 'async'
        ? `semi-sync fell back to async (no replica acknowledges; ${replication.unacknowledgedTransactions} transaction(s) committed unacknowledged since the server started): if this machine dies now, its latest writes are lost`
        : undefined;
      return {
        ok: true, answers: true, role: 'primary', readOnly, replication, ...(risk ? { risk } : {}), wire: { connection: connectionWire },
        detail: `answers (${rows[0]?.version}), ${readOnly ? 'read-only' : 'writable'}${enabled ? `, semi-sync ${replication.semiSync}` : ''}`,
      };
    }
    const running = replica.Slave_IO_Running === 'Yes' && replica.Slave_SQL_Running === 'Yes';
    const lag = replica.Seconds_Behind_Master ?? '?';
    const io = replica.Slave_IO_Running === 'Yes' ? 'running' : replica.Slave_IO_Running === 'Connecting' ? 'connecting' : 'stopped';
    const replication: ReplicationState = {
      receiving: io,
      applying: replica.Slave_SQL_Running === 'Yes' ? 'running' : 'stopped',
      gtidReceived: String(replica.Gtid_IO_Pos ?? ''),
      gtidApplied: String(rows[0]?.applied ?? ''),
      ...(replica.Last_IO_Error_Timestamp ? { receivingErrorAt: String(replica.Last_IO_Error_Timestamp) } : {}),
      ...(replica.Last_IO_Error || replica.Last_SQL_Error ? { lastError: String(replica.Last_IO_Error || replica.Last_SQL_Error) } : {}),
    };
    const risk = io === 'running'
      ? undefined
      : `not receiving from ${replica.Master_Host} (IO thread ${io}${replication.receivingErrorAt ? ` since ${replication.receivingErrorAt}` : ''}), last GTID received ${replication.gtidReceived || '(none)'}: ` +
        'once the semi-sync time-out passes, the primary commits without it, and those writes exist only on the primary';
    return {
      ok: running,
      answers: true,
      role: 'replica',
      readOnly,
      replication,
      ...(risk ? { risk } : {}),
      wire: { connection: connectionWire, link: linkWire(replica.Master_SSL_Allowed, replica.Master_SSL_Verify_Server_Cert) },
      detail: running
        ? `replica of ${replica.Master_Host}, ${lag} s behind, received ${replication.gtidReceived || '-'}, applied ${replication.gtidApplied || '-'}`
        : `replica of ${replica.Master_Host} NOT replicating: io ${replica.Slave_IO_Running}, sql ${replica.Slave_SQL_Running}, received ${replication.gtidReceived || '-'}, applied ${replication.gtidApplied || '-'} ${replica.Last_Error || replica.Last_IO_Error || ''}`.trim(),
    };
  } catch (error) {
    return { ok: false, detail: `does not answer: ${(error as Error).message}` };
  } finally {
    // Closing is cleanup: the check's answer was decided above.
    await connection?.end().catch(() => {});
  }
}

export async function checkRedis(fleet: Fleet, m: Machine, secret: SecretResolver): Promise<DataCheck> {
  let password: string | undefined;
  try {
    password = fleet.redis?.password ? await secret(fleet.redis.password) : undefined;
  } catch (error) {
    return { ok: false, detail: `credentials unavailable: ${(error as Error).message}` };
  }
  const tls = redisTlsOptions(fleet, m);
  const client = new Redis({
    host: m.address,
    port: tls?.port ?? fleet.redis?.port ?? 6379,
    ...(tls ? { tls: tls.tls } : {}),
    ...(password ? { password } : {}),
    connectTimeout: TIMEOUT_MS,
    commandTimeout: TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    lazyConnect: true,
  });
  client.on('error', () => {}); // reported through the rejected command below
  try {
    await client.connect();
    const info = await client.info('replication');
    const role = /role:(\w+)/.exec(info)?.[1];
    const connection = tls ? 'tls' : 'clear';
    if (role === 'slave') {
      const link = /master_link_status:(\w+)/.exec(info)?.[1];
      const host = /master_host:(\S+)/.exec(info)?.[1];
      // Redis checks the primary's certificate against the CA, but not its name.
      // CONFIG may be renamed away: then the link's encryption is not known, and not called clear.
      const tlsReplication = ((await client.config('GET', 'tls-replication').catch(() => undefined)) as string[] | undefined)?.[1];
      const wireLink = tlsReplication === undefined ? 'unknown' : tlsReplication === 'yes' ? 'tls, certificate checked, name not' : 'clear';
      return { ok: link === 'up', answers: true, role: 'replica', detail: `replica of ${host}, link ${link}`, wire: { connection, link: wireLink } };
    }
    return { ok: true, answers: true, role: 'primary', detail: 'answers PING, primary', wire: { connection } };
  } catch (error) {
    return { ok: false, detail: `does not answer: ${(error as Error).message}` };
  } finally {
    client.disconnect();
  }
}
