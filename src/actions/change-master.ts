/**
 * The one CHANGE MASTER lifeboat sends, for prepare's replicas and for an old primary that
 * rejoins: GTID replication from `source`, inside TLS that checks the source's certificate
 * against the fleet's CA and its address against the certificate's names whenever both
 * machines hold certificates (src/remote/tls.ts), and explicitly in clear otherwise. The
 * password travels as a parameter; index 3 of `params` is the secret.
 */
import type { Fleet, Machine } from '../fleet/schema.ts';
import { machineTlsFiles, tlsRequired } from '../remote/tls.ts';

export const CHANGE_MASTER_SECRET_PARAM = 3;

export function changeMasterSql(fleet: Fleet, source: Machine, replica: Machine, user: string, password: string, port = fleet.database?.port ?? 3306): { sql: string; params: unknown[] } {
  const base = 'CHANGE MASTER TO MASTER_HOST = ?, MASTER_PORT = ?, MASTER_USER = ?, MASTER_PASSWORD = ?, MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 1';
  if (tlsRequired(fleet, source.name) && tlsRequired(fleet, replica.name)) {
    return {
      sql: `${base}, MASTER_SSL = 1, MASTER_SSL_CA = ?, MASTER_SSL_VERIFY_SERVER_CERT = 1`,
      params: [source.address, port, user, password, machineTlsFiles(fleet).ca],
    };
  }
  return { sql: `${base}, MASTER_SSL = 0`, params: [source.address, port, user, password] };
}
