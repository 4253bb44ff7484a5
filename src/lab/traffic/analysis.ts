/**
 * What a drill computes from a traffic run: when users were served again after a fault
 * (RTO), and whether every write the services acknowledged still exists (RPO).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Connection, Pool, RowDataPacket } from 'mysql2/promise';
import { LAB_WRITES_TABLE } from '../apps/generic-spec.ts';
import type { Ack, AckKind, Op, TrafficRecord } from './records.ts';

export interface FirstSuccess {
  /** Epoch ms when the successful answer arrived. */
  at: number;
  /** `at` minus the instant asked about: the recovery time seen by users. */
  afterMs: number;
  op: Op;
}

export interface Recovery {
  /** First success from any request sent at or after the instant; null when none. */
  overall: FirstSuccess | null;
  /** Per domain and per service seen in the records; null when none succeeded after it. */
  byDomain: Record<string, FirstSuccess | null>;
  byService: Record<string, FirstSuccess | null>;
}

/** First successful request per domain and per service among those sent at or after `t`. */
export function firstSuccessAfter(records: readonly TrafficRecord[], t: number): Recovery {
  const recovery: Recovery = { overall: null, byDomain: {}, byService: {} };
  const earlier = (a: FirstSuccess | null | undefined, b: FirstSuccess) => (a && a.at <= b.at ? a : b);
  for (const r of records) {
    recovery.byDomain[r.domain] ??= null;
    recovery.byService[r.service] ??= null;
    if (r.t < t || !r.ok) continue;
    const hit: FirstSuccess = { at: r.t + r.ms, afterMs: r.t + r.ms - t, op: r.op };
    recovery.overall = earlier(recovery.overall, hit);
    recovery.byDomain[r.domain] = earlier(recovery.byDomain[r.domain], hit);
    recovery.byService[r.service] = earlier(recovery.byService[r.service], hit);
  }
  return recovery;
}

export interface VerifyDeps {
  /** A connection to the database that serves now (after the recovery). */
  mysqlConn: Connection | Pool;
  /** The fleet's schema, where the services' tables are. */
  schema: string;
  /** The stored bytes of a file a service keeps (`service` undefined: the seed's uploads), or null when it is gone. */
  fetchFile(name: string, service?: string): Promise<Buffer | null>;
}

export interface Verification {
  checked: Record<AckKind, number>;
  /** Acknowledged writes that no longer exist (or changed): the data lost. */
  missing: Ack[];
}

const CHUNK = 500;

function chunks<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

/** Checks every acknowledged write in `records` against the database and upload store. */
export async function verifyAcknowledged(records: readonly TrafficRecord[], deps: VerifyDeps): Promise<Verification> {
  const acks = records.flatMap((r) => (r.ok && r.ack ? [r.ack] : []));
  const of = <K extends AckKind>(kind: K) => acks.filter((a): a is Extract<Ack, { kind: K }> => a.kind === kind);
  const result: Verification = { checked: { user: 0, user_log: 0, chat: 0, upload: 0, row: 0, file: 0 }, missing: [] };
  const sql = deps.mysqlConn;
  const table = (name: string) => `${sql.escapeId(deps.schema)}.${sql.escapeId(name)}`;

  for (const part of chunks(of('user'))) {
    const [rows] = await sql.query<RowDataPacket[]>(
      `SELECT id, username FROM ${table('users')} WHERE id IN (${part.map(() => '?').join(',')})`, part.map((a) => a.id));
    const found = new Map(rows.map((r) => [Number(r.id), String(r.username)]));
    for (const a of part) if (found.get(a.id) !== a.username) result.missing.push(a);
    result.checked.user += part.length;
  }
  // Heartbeats of one user on one day share a row: check each row once.
  const logs = [...new Map(of('user_log').map((a) => [`${a.userId}/${a.datestr}`, a])).values()];
  for (const part of chunks(logs)) {
    const [rows] = await sql.query<RowDataPacket[]>(
      `SELECT user_id, datestr FROM ${table('user_logs')} WHERE (user_id, datestr) IN (${part.map(() => '(?, ?)').join(',')})`,
      part.flatMap((a) => [a.userId, a.datestr]));
    const found = new Set(rows.map((r) => `${Number(r.user_id)}/${String(r.datestr)}`));
    for (const a of part) if (!found.has(`${a.userId}/${a.datestr}`)) result.missing.push(a);
    result.checked.user_log += part.length;
  }
  for (const part of chunks(of('chat'))) {
    const [rows] = await sql.query<RowDataPacket[]>(
      `SELECT id FROM ${table('chat_messages')} WHERE id IN (${part.map(() => '?').join(',')})`, part.map((a) => a.id));
    const found = new Set(rows.map((r) => Number(r.id)));
    for (const a of part) if (!found.has(a.id)) result.missing.push(a);
    result.checked.chat += part.length;
  }
  for (const part of chunks(of('row'))) {
    const [rows] = await sql.query<RowDataPacket[]>(
      `SELECT id, service FROM ${table(LAB_WRITES_TABLE)} WHERE id IN (${part.map(() => '?').join(',')})`, part.map((a) => a.id));
    const found = new Map(rows.map((r) => [Number(r.id), String(r.service)]));
    for (const a of part) if (found.get(a.id) !== a.service) result.missing.push(a);
    result.checked.row += part.length;
  }
  const sameBytes = (data: Buffer | null, sha256: string) => data !== null && createHash('sha256').update(data).digest('hex') === sha256;
  for (const a of of('upload')) {
    if (!sameBytes(await deps.fetchFile(a.name), a.sha256)) result.missing.push(a);
    result.checked.upload += 1;
  }
  for (const a of of('file')) {
    if (!sameBytes(await deps.fetchFile(a.name, a.service), a.sha256)) result.missing.push(a);
    result.checked.file += 1;
  }
  return result;
}

/** `fetchFile` reading one folder directly (the drill runs beside the host's disk). */
export function uploadsInDir(dir: string): (name: string) => Promise<Buffer | null> {
  return async (name) => {
    try {
      return await readFile(join(dir, name));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  };
}
