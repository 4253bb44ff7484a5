/** Does MariaDB / Redis answer on a machine, and in which role (primary or replica)? */
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import type { Fleet, Machine } from '../fleet/schema.ts';
import type { SecretResolver } from '../fleet/secrets.ts';

export interface DataCheck {
  ok: boolean;
  detail: string;
  /** What the server says it is. */
  role?: 'primary' | 'replica';
  readOnly?: boolean;
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
    connection = await mysql.createConnection({
      host: m.address,
      port: db.port,
      user: db.adminUser,
      password,
      connectTimeout: TIMEOUT_MS,
    });
    const [rows] = await connection.query<mysql.RowDataPacket[]>('SELECT @@read_only AS readOnly, @@version AS version');
    const [replicas] = await connection.query<mysql.RowDataPacket[]>('SHOW ALL SLAVES STATUS');
    const readOnly = Number(rows[0]?.readOnly) === 1;
    const replica = replicas[0];
    if (!replica) return { ok: true, role: 'primary', readOnly, detail: `answers (${rows[0]?.version}), ${readOnly ? 'read-only' : 'writable'}` };
    const running = replica.Slave_IO_Running === 'Yes' && replica.Slave_SQL_Running === 'Yes';
    const lag = replica.Seconds_Behind_Master ?? '?';
    return {
      ok: running,
      role: 'replica',
      readOnly,
      detail: running
        ? `replica of ${replica.Master_Host}, ${lag} s behind, gtid ${replica.Gtid_IO_Pos || '-'}`
        : `replica of ${replica.Master_Host} NOT replicating: io ${replica.Slave_IO_Running}, sql ${replica.Slave_SQL_Running} ${replica.Last_Error || replica.Last_IO_Error || ''}`.trim(),
    };
  } catch (error) {
    return { ok: false, detail: `does not answer: ${(error as Error).message}` };
  } finally {
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
  const client = new Redis({
    host: m.address,
    port: fleet.redis?.port ?? 6379,
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
    if (role === 'slave') {
      const link = /master_link_status:(\w+)/.exec(info)?.[1];
      const host = /master_host:(\S+)/.exec(info)?.[1];
      return { ok: link === 'up', role: 'replica', detail: `replica of ${host}, link ${link}` };
    }
    return { ok: true, role: 'primary', detail: 'answers PING, primary' };
  } catch (error) {
    return { ok: false, detail: `does not answer: ${(error as Error).message}` };
  } finally {
    client.disconnect();
  }
}
