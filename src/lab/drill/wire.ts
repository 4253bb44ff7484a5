/**
 * What crossed the lab's switch in clear text: a drill with `--capture` records every packet
 * on the switch's bridge (tcpdump, from before `prepare` to the end of the recovery) and this
 * reads the capture back. It looks for the lab's secrets and for marker values the drill
 * planted in MariaDB and Redis (rows and keys that only the databases' own traffic carries:
 * the seed copy, replication, lifeboat's reads), and sorts the connections to the database
 * ports into encrypted, clear and empty ones.
 *
 * The pcap is read as a stream (Ethernet, IPv4, TCP), each direction of a connection put
 * back in order by sequence number, and searched with an overlap so a value split between
 * two segments is still found.
 */
import { open } from 'node:fs/promises';

export interface WireNeedles {
  /** name → value; a name is reported when its value crossed in clear. */
  secrets: Record<string, string>;
  /** Values planted in the databases. */
  markers: string[];
  /** A value known to cross in clear (an HTTP Host header): proof the capture holds payloads. */
  control: string;
  /** Server ports of MariaDB and Redis, plain and TLS. */
  dataPorts: number[];
}

export interface PortFlows {
  /** The client's first bytes hold a TLS ClientHello (after MariaDB's own SSL request). */
  encrypted: number;
  /** The client sent bytes, and no TLS handshake among the first of them. */
  clear: number;
  /** No byte from the client (a connect-only probe). */
  empty: number;
}

export interface WireReport {
  packets: number;
  bytes: number;
  /** Names of the secrets whose values crossed in clear. */
  secretsInClear: string[];
  markersPlanted: number;
  markersInClear: number;
  controlSeen: boolean;
  /** By server port. */
  flows: Record<string, PortFlows>;
  /** The connections counted clear (at most 5): who to whom, and their first 16 bytes in hex — enough to tell a protocol, not to carry a value. */
  clearSamples: Array<{ flow: string; bytes: number; head: string }>;
}

interface Direction {
  next?: number;
  tail: Buffer;
  head: Buffer;
  sent: number;
}

const HEAD_BYTES = 96;

/** A TLS handshake record holding a ClientHello (type 22, version 3.x, handshake type 1). */
/**
 * All a client sent was MariaDB's SSLRequest (36 bytes: a 32-byte packet, sequence 1, with
 * CLIENT_SSL set): the upgrade to TLS cut before its handshake — the far side died or went
 * away at that moment. It carries no data; it is not a session in clear.
 */
function loneSslRequest(head: Buffer, sent: number): boolean {
  return sent === 36 && head.length >= 8 && head.readUIntLE(0, 3) === 32 && head[3] === 1 && (head.readUInt32LE(4) & 0x800) !== 0;
}

function hasClientHello(head: Buffer): boolean {
  for (let i = 0; i + 5 < head.length; i++) {
    if (head[i] === 0x16 && head[i + 1] === 0x03 && head[i + 2]! <= 0x04 && head[i + 5] === 0x01) return true;
  }
  return false;
}

export async function readWire(file: string, needles: WireNeedles): Promise<WireReport> {
  const named = Object.entries(needles.secrets).filter(([, v]) => v.length >= 6).map(([name, v]) => ({ name, value: Buffer.from(v) }));
  const markers = needles.markers.map((m) => Buffer.from(m));
  const control = Buffer.from(needles.control);
  const overlap = Math.max(control.length, ...named.map((n) => n.value.length), ...markers.map((m) => m.length)) - 1;
  const foundSecrets = new Set<string>();
  const foundMarkers = new Set<number>();
  let controlSeen = false;
  const dirs = new Map<string, Direction>();
  const ports = new Set(needles.dataPorts);
  let packets = 0;
  let bytes = 0;

  const search = (window: Buffer) => {
    for (const n of named) if (!foundSecrets.has(n.name) && window.includes(n.value)) foundSecrets.add(n.name);
    markers.forEach((m, i) => { if (!foundMarkers.has(i) && window.includes(m)) foundMarkers.add(i); });
    if (!controlSeen && window.includes(control)) controlSeen = true;
  };

  const handle = await open(file, 'r');
  try {
    const header = Buffer.alloc(24);
    if ((await handle.read(header, 0, 24, 0)).bytesRead < 24) throw new Error(`${file}: not a pcap file (too short)`);
    const magic = header.readUInt32LE(0);
    const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
    if (!le && header.readUInt32BE(0) !== 0xa1b2c3d4 && header.readUInt32BE(0) !== 0xa1b23c4d) throw new Error(`${file}: not a pcap file`);
    const u32 = (b: Buffer, at: number) => (le ? b.readUInt32LE(at) : b.readUInt32BE(at));
    if (u32(header, 20) !== 1) throw new Error(`${file}: link type ${u32(header, 20)}, not Ethernet`);
    let position = 24;
    const recordHeader = Buffer.alloc(16);
    for (;;) {
      if ((await handle.read(recordHeader, 0, 16, position)).bytesRead < 16) break;
      const length = u32(recordHeader, 8);
      const frame = Buffer.alloc(length);
      if ((await handle.read(frame, 0, length, position + 16)).bytesRead < length) break;
      position += 16 + length;
      packets++;
      bytes += length;
      let at = 12;
      let type = frame.readUInt16BE(at);
      while (type === 0x8100 && frame.length >= at + 6) { at += 4; type = frame.readUInt16BE(at); }
      at += 2;
      if (type !== 0x0800 || frame.length < at + 20 || frame[at + 9] !== 6) continue;
      const ihl = (frame[at]! & 0x0f) * 4;
      const ipEnd = Math.min(frame.length, at + frame.readUInt16BE(at + 2));
      const src = frame.subarray(at + 12, at + 16).join('.');
      const dst = frame.subarray(at + 16, at + 20).join('.');
      const tcp = at + ihl;
      if (ipEnd < tcp + 20) continue;
      const sport = frame.readUInt16BE(tcp);
      const dport = frame.readUInt16BE(tcp + 2);
      const seq = frame.readUInt32BE(tcp + 4);
      const flags = frame[tcp + 13]!;
      let payload = frame.subarray(tcp + (frame[tcp + 12]! >> 4) * 4, ipEnd);
      const segment = payload.length;
      const key = `${src}:${sport}>${dst}:${dport}`;
      let dir = dirs.get(key);
      if (!dir || (flags & 0x02) !== 0) {
        // A SYN starts a connection (again): its first byte is seq + 1.
        dir = { tail: Buffer.alloc(0), head: Buffer.alloc(0), sent: 0, ...((flags & 0x02) !== 0 ? { next: (seq + 1) >>> 0 } : {}) };
        dirs.set(key, dir);
      }
      if (payload.length === 0) continue;
      if (dir.next !== undefined) {
        const behind = (dir.next - seq) | 0;
        if (behind >= payload.length) continue; // a retransmission of bytes already seen
        if (behind > 0) payload = payload.subarray(behind);
      }
      dir.next = (seq + segment) >>> 0;
      if (ports.has(dport) && dir.head.length < HEAD_BYTES) dir.head = Buffer.concat([dir.head, payload.subarray(0, HEAD_BYTES - dir.head.length)]);
      dir.sent += payload.length;
      const window = Buffer.concat([dir.tail, payload]);
      search(window);
      dir.tail = window.subarray(Math.max(0, window.length - overlap));
    }
  } finally {
    await handle.close();
  }

  const flows: Record<string, PortFlows> = {};
  const clearSamples: WireReport['clearSamples'] = [];
  for (const [key, dir] of dirs) {
    const port = Number(key.slice(key.lastIndexOf(':') + 1));
    if (!ports.has(port)) continue;
    const f = (flows[String(port)] ??= { encrypted: 0, clear: 0, empty: 0 });
    if (dir.sent === 0 || loneSslRequest(dir.head, dir.sent)) f.empty++;
    else if (hasClientHello(dir.head)) f.encrypted++;
    else {
      f.clear++;
      if (clearSamples.length < 5) clearSamples.push({ flow: key, bytes: dir.sent, head: dir.head.subarray(0, 16).toString('hex') });
    }
  }
  return {
    packets,
    bytes,
    secretsInClear: [...foundSecrets].sort(),
    markersPlanted: markers.length,
    markersInClear: foundMarkers.size,
    controlSeen,
    flows,
    clearSamples,
  };
}
