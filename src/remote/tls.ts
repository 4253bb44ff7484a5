/**
 * TLS for MariaDB and Redis between machines (fleet `tls`), as the clients see it: the
 * private CA that verifies every server, the names each certificate carries, the files on
 * the machines, and the options lifeboat's own mysql2 and ioredis connections use.
 *
 * A machine's connections are encrypted once lifeboat has issued it a certificate (a copy is
 * kept beside the CA, `issued/<machine>.pem`): from then on a server that does not offer TLS
 * is an error, never a quiet fall back to clear text. A machine not issued one yet (a
 * fleet before its first `prepare`, a spare a recovery just built) is reached in clear.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { posix } from 'node:path';
import type { Fleet, Machine } from '../fleet/schema.ts';
import { tlsPorts } from '../fleet/model.ts';

/**
 * Names every database (or Redis) machine's certificate carries besides its own: the
 * endpoints switch between machines at runtime, and HAProxy checks one fixed name. The CA
 * is the fleet's own, so the name says "a MariaDB server of this fleet".
 */
export const SHARED_NAMES = { database: 'lifeboat-mariadb', redis: 'lifeboat-redis' } as const;

export const caCertPath = (fleet: Fleet): string => posix.join(fleet.tls.caDir, 'ca.pem');
export const caKeyPath = (fleet: Fleet): string => posix.join(fleet.tls.caDir, 'ca.key');
export const issuedPath = (fleet: Fleet, machine: string): string => posix.join(fleet.tls.caDir, 'issued', `${machine}.pem`);

/** The files on a machine: the CA, its certificate, its key in one copy per server that reads it. */
export function machineTlsFiles(fleet: Fleet) {
  const dir = fleet.tls.machineDir;
  return {
    dir,
    ca: `${dir}/ca.pem`,
    cert: `${dir}/server.pem`,
    /** The key as generated; root only. */
    key: `${dir}/server-key.pem`,
    /** Copies readable by the server that loads them (MariaDB and Redis run as their own users). */
    mariadbKey: `${dir}/mariadb-key.pem`,
    redisKey: `${dir}/redis-key.pem`,
    /** Certificate and key in one file, as HAProxy's `crt` reads them. */
    haproxyPem: `${dir}/haproxy.pem`,
  };
}

/** Whether lifeboat's connections to `machine` must be encrypted (it was issued a certificate). */
export function tlsRequired(fleet: Fleet, machine: string): boolean {
  return fleet.tls.enabled && existsSync(issuedPath(fleet, machine)) && existsSync(caCertPath(fleet));
}

const caCache = new Map<string, { mtimeMs: number; pem: Buffer }>();
/** The CA's certificate, read again when prepare replaced it (a long-running daemon sees the new one). */
function caCert(fleet: Fleet): Buffer {
  const path = caCertPath(fleet);
  const mtimeMs = statSync(path).mtimeMs;
  let found = caCache.get(path);
  if (!found || found.mtimeMs !== mtimeMs) {
    found = { mtimeMs, pem: readFileSync(path) };
    caCache.set(path, found);
  }
  return found.pem;
}
/** Prepare replaced the CA: connections from now on use the new one. */
export function forgetCaCache(): void {
  caCache.clear();
}

/**
 * mysql2 options for an encrypted connection to `m`: the server's certificate must chain to
 * the fleet's CA and name the machine. mysql2 checks the name only when its host is a name,
 * so the host is the machine's name and the socket is opened to its address.
 */
export function mysqlTlsOptions(fleet: Fleet, m: Machine, port: number): { host: string; ssl: { ca: Buffer; rejectUnauthorized: true; verifyIdentity: true }; stream: () => Socket } | undefined {
  if (!tlsRequired(fleet, m.name)) return undefined;
  return {
    host: m.name,
    ssl: { ca: caCert(fleet), rejectUnauthorized: true, verifyIdentity: true },
    stream: () => connect({ host: m.address, port }),
  };
}

/** Everything mysql2 needs to reach MariaDB on `m` as `user`, encrypted when `m` was issued a certificate. */
export function mysqlConnection(fleet: Fleet, m: Machine, user: string, password: string, connectTimeoutMs: number) {
  const port = fleet.database?.port ?? 3306;
  return { host: m.address, port, user, password, connectTimeout: connectTimeoutMs, ...mysqlTlsOptions(fleet, m, port) };
}

/** ioredis options for `m`: its TLS port, the fleet's CA, the machine's name checked. */
export function redisTlsOptions(fleet: Fleet, m: Machine): { port: number; tls: { ca: Buffer; servername: string; rejectUnauthorized: true } } | undefined {
  if (!tlsRequired(fleet, m.name) || !fleet.redis) return undefined;
  return { port: tlsPorts(fleet).redis, tls: { ca: caCert(fleet), servername: m.name, rejectUnauthorized: true } };
}

/** Roles whose machines serve MariaDB or Redis to other machines, and so get a certificate. */
export function servesData(m: Machine): boolean {
  return m.roles.some((r) => r === 'db-primary' || r === 'db-replica' || r === 'redis' || r === 'redis-replica');
}
