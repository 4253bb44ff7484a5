/**
 * What the traffic generator writes, one JSON object per line: every request with its time
 * and outcome, and for every acknowledged write what was acknowledged (ids, names, hashes),
 * so a drill can measure recovery time and check that no acknowledged write was lost.
 */
import { readFile } from 'node:fs/promises';

/** The seed variants' operations, then the generic stand-in's (any service). */
export const OPS = ['register', 'login', 'heartbeat', 'chat', 'upload', 'domains', 'write', 'file', 'list-domains'] as const;
export type Op = (typeof OPS)[number];
export type SeedOp = Exclude<Op, 'write' | 'file' | 'list-domains'>;

/** The seed variant serving each of its operations. */
export const SERVICE_OF: Record<SeedOp, string> = {
  register: 'go-api', login: 'go-api', heartbeat: 'go-api', chat: 'go-fly', upload: 'go-upload', domains: 'go-admin',
};

/** A write the service acknowledged: it must still exist after any recovery. */
export type Ack =
  | { kind: 'user'; id: number; username: string }
  | { kind: 'user_log'; userId: number; datestr: string }
  | { kind: 'chat'; id: number }
  | { kind: 'upload'; name: string; sha256: string; bytes: number }
  /** A row a generic stand-in wrote in the fleet's schema. */
  | { kind: 'row'; service: string; id: number }
  /** A file a generic stand-in wrote in its service's first data folder. */
  | { kind: 'file'; service: string; name: string; sha256: string; bytes: number };
export type AckKind = Ack['kind'];

/** Files on one machine's local disk: the acknowledged writes an upload sync carries. */
export const isFileAck = (ack: Ack | undefined): boolean => ack?.kind === 'upload' || ack?.kind === 'file';

export interface TrafficRecord {
  /** Epoch ms when the request was sent. */
  t: number;
  /** Duration until the answer or the failure. */
  ms: number;
  /** Base URL used, and its host name (the domain the users reach). */
  base: string;
  domain: string;
  service: string;
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
