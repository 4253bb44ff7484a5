/**
 * What the traffic generator writes, one JSON object per line: every request with its time
 * and outcome, and for every acknowledged write what was acknowledged (ids, names, hashes),
 * so a drill can measure recovery time and check that no acknowledged write was lost.
 */
import { readFile } from 'node:fs/promises';
import type { ServiceName } from '../apps/config.ts';

export const OPS = ['register', 'login', 'heartbeat', 'chat', 'upload', 'domains'] as const;
export type Op = (typeof OPS)[number];

export const SERVICE_OF: Record<Op, ServiceName> = {
  register: 'go-api', login: 'go-api', heartbeat: 'go-api', chat: 'go-fly', upload: 'go-upload', domains: 'go-admin',
};

/** A write the service acknowledged: it must still exist after any recovery. */
export type Ack =
  | { kind: 'user'; id: number; username: string }
  | { kind: 'user_log'; userId: number; datestr: string }
  | { kind: 'chat'; id: number }
  | { kind: 'upload'; name: string; sha256: string; bytes: number };
export type AckKind = Ack['kind'];

export interface TrafficRecord {
  /** Epoch ms when the request was sent. */
  t: number;
  /** Duration until the answer or the failure. */
  ms: number;
  /** Base URL used, and its host name (the domain the users reach). */
  base: string;
  domain: string;
  service: ServiceName;
  op: Op;
  ok: boolean;
  status?: number;
  /** Short failure reason: an errno code (ECONNREFUSED, ENOTFOUND), TIMEOUT, or HTTP_<status>. */
  error?: string;
  ack?: Ack;
}

export async function readRecords(file: string): Promise<TrafficRecord[]> {
  const text = await readFile(file, 'utf8');
  return text.split('\n').filter((line) => line.trim()).map((line) => JSON.parse(line) as TrafficRecord);
}
