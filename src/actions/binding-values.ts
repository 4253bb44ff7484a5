/**
 * What each binding kind holds, and how a new database/Redis address turns into the new
 * value of one key. Pure functions: the action around them does the reading and writing.
 */
import type { BindingKind } from '../fleet/schema.ts';
import type { ConfigValue } from './config-formats/index.ts';
import { joinHostPort, parseGoframeDsn, parseHostPort, withGoframeAddress } from './goframe-dsn.ts';

/** Where the services should find MySQL and Redis. A field left out is not changed. */
export interface BindingTarget {
  mysqlHost?: string;
  mysqlPort?: number;
  redisHost?: string;
  redisPort?: number;
}

export class BindingValueError extends Error {
  override name = 'BindingValueError';
  constructor(readonly code: 'unparseable', message: string) {
    super(message);
  }
}

type Endpoint = { host?: string; port?: number };

function endpointOf(kind: BindingKind, target: BindingTarget): Endpoint {
  return kind.startsWith('mysql')
    ? { host: target.mysqlHost, port: target.mysqlPort }
    : { host: target.redisHost, port: target.redisPort };
}

/** Reads what one key says about its endpoint (for status and verification). */
export function readEndpoint(kind: BindingKind, value: ConfigValue | undefined): Endpoint {
  if (value === undefined || value === null) return {};
  const text = String(value);
  switch (kind) {
    case 'mysql-host':
    case 'redis-host':
      return { host: text };
    case 'mysql-port':
    case 'redis-port':
      return /^\d{1,5}$/.test(text.trim()) ? { port: Number(text) } : {};
    case 'mysql-address':
    case 'redis-address':
      return parseHostPort(text) ?? {};
    case 'mysql-dsn-goframe': {
      const dsn = parseGoframeDsn(text);
      return dsn ? { host: dsn.host, port: dsn.port } : {};
    }
  }
}

/**
 * The value `kind` should hold for `target`, in the same type as `current` (a port written
 * as a string stays a string). Returns `current` when the target does not name this endpoint.
 */
export function nextValue(kind: BindingKind, current: ConfigValue | undefined, target: BindingTarget): ConfigValue | undefined {
  const want = endpointOf(kind, target);
  const have = readEndpoint(kind, current);
  const host = want.host ?? have.host;
  const port = want.port ?? have.port;
  switch (kind) {
    case 'mysql-host':
    case 'redis-host':
      return want.host ?? current;
    case 'mysql-port':
    case 'redis-port':
      if (want.port === undefined) return current;
      return typeof current === 'string' ? String(want.port) : want.port;
    case 'mysql-address':
    case 'redis-address':
      if (want.host === undefined && want.port === undefined) return current;
      if (host === undefined || port === undefined) {
        throw new BindingValueError('unparseable', `cannot tell host and port apart in the current ${kind} value`);
      }
      return joinHostPort(host, port);
    case 'mysql-dsn-goframe': {
      if (want.host === undefined && want.port === undefined) return current;
      const next = host !== undefined && port !== undefined ? withGoframeAddress(String(current ?? ''), host, port) : undefined;
      if (next === undefined) {
        throw new BindingValueError('unparseable', 'the current value is not a GoFrame link like mysql:user:pass@tcp(host:port)/db');
      }
      return next;
    }
  }
}
