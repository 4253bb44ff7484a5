/** The capture reader on a pcap built here, byte by byte, as tcpdump writes one (Ethernet, IPv4, TCP). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readWire } from './wire.ts';

function frame(src: string, dst: string, sport: number, dport: number, seq: number, payload: Buffer, syn = false): Buffer {
  const tcp = Buffer.alloc(20);
  tcp.writeUInt16BE(sport, 0);
  tcp.writeUInt16BE(dport, 2);
  tcp.writeUInt32BE(seq >>> 0, 4);
  tcp[12] = 5 << 4;
  tcp[13] = syn ? 0x02 : 0x18;
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + 20 + payload.length, 2);
  ip[8] = 64;
  ip[9] = 6;
  src.split('.').forEach((b, i) => (ip[12 + i] = Number(b)));
  dst.split('.').forEach((b, i) => (ip[16 + i] = Number(b)));
  const eth = Buffer.alloc(14);
  eth.writeUInt16BE(0x0800, 12);
  return Buffer.concat([eth, ip, tcp, payload]);
}

function pcap(frames: Buffer[]): Buffer {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(262144, 16);
  header.writeUInt32LE(1, 20);
  return Buffer.concat([header, ...frames.flatMap((f, i) => {
    const r = Buffer.alloc(16);
    r.writeUInt32LE(1_700_000_000 + i, 0);
    r.writeUInt32LE(f.length, 8);
    r.writeUInt32LE(f.length, 12);
    return [r, f];
  })]);
}

const CLIENT_HELLO = Buffer.from([0x16, 0x03, 0x01, 0x00, 0x40, 0x01, 0x00, 0x00, 0x3c]);
// MariaDB's SSL request: a 4-byte header and 32 bytes of capabilities, then the TLS handshake.
const SSL_REQUEST = Buffer.concat([Buffer.from([0x20, 0x00, 0x00, 0x01]), Buffer.alloc(32, 0x0f)]);

test('readWire: a secret split between two segments and a retransmission are found once; connections sorted into encrypted, clear, empty', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lifeboat-wire-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const a = '198.51.100.13';
  const b = '198.51.100.12';
  const file = join(dir, 'cap.pcap');
  writeFileSync(file, pcap([
    // A clear MariaDB session whose CHANGE MASTER carries the password across two segments, one of them sent twice.
    frame(a, b, 40000, 3306, 100, Buffer.alloc(0), true),
    frame(a, b, 40000, 3306, 101, Buffer.from("CHANGE MASTER TO MASTER_PASSWORD = 'hunter")),
    frame(a, b, 40000, 3306, 101, Buffer.from("CHANGE MASTER TO MASTER_PASSWORD = 'hunter")),
    frame(a, b, 40000, 3306, 143, Buffer.from("2-secret'")),
    // The same over TLS: SSL request, then a ClientHello; the password inside is ciphertext.
    frame(a, b, 40001, 3306, 500, Buffer.alloc(0), true),
    frame(a, b, 40001, 3306, 501, Buffer.concat([SSL_REQUEST, CLIENT_HELLO, Buffer.alloc(40, 0xaa)])),
    // Redis on its TLS port, and a connect-only probe on the plain one.
    frame(a, b, 40002, 6380, 900, Buffer.alloc(0), true),
    frame(a, b, 40002, 6380, 901, Buffer.concat([CLIENT_HELLO, Buffer.from('wire-key-abc')])),
    frame(a, b, 40003, 6379, 1, Buffer.alloc(0), true),
    // A TLS upgrade cut before its handshake (the primary died at that moment): no data at all.
    frame(a, b, 40004, 3306, 1, Buffer.alloc(0), true),
    frame(a, b, 40004, 3306, 2, SSL_REQUEST),
    // The same 36 bytes without CLIENT_SSL are a login in clear.
    frame(a, b, 40005, 3306, 1, Buffer.alloc(0), true),
    frame(a, b, 40005, 3306, 2, Buffer.concat([Buffer.from([0x20, 0x00, 0x00, 0x01]), Buffer.alloc(32, 0x00)])),
    // Replication carrying a marker in clear, from the primary's side of a connection.
    frame(b, a, 3306, 40000, 7000, Buffer.from('...row wire-row-0123456789 in a binlog event...')),
    // HTTP: the control.
    frame('203.0.113.5', '198.51.100.10', 50000, 80, 1, Buffer.from('GET / HTTP/1.1\r\nHost: shop.example\r\n\r\n')),
  ]));
  const report = await readWire(file, {
    secrets: { dbReplicationPassword: 'hunter2-secret', dbAdminPassword: 'never-sent-here' },
    markers: ['wire-row-0123456789', 'wire-key-abc', 'wire-key-not-sent'],
    control: 'shop.example',
    dataPorts: [3306, 6379, 6380],
  });
  assert.equal(report.packets, 15);
  assert.deepEqual(report.secretsInClear, ['dbReplicationPassword'], 'the split password is found; the other never crossed');
  assert.equal(report.markersPlanted, 3);
  assert.equal(report.markersInClear, 2, 'a marker in a clear replication stream and one after a ClientHello are both bytes on the wire');
  assert.equal(report.controlSeen, true);
  assert.deepEqual(report.flows['3306'], { encrypted: 1, clear: 2, empty: 1 }, "connections are counted by the client's side; the primary's replies are not a connection of their own; an SSL request cut short carries nothing");
  assert.deepEqual(report.flows['6380'], { encrypted: 1, clear: 0, empty: 0 });
  assert.deepEqual(report.flows['6379'], { encrypted: 0, clear: 0, empty: 1 });
});

test('readWire refuses a file that is not a pcap', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lifeboat-wire-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'x'), 'not a capture at all, just text');
  await assert.rejects(readWire(join(dir, 'x'), { secrets: {}, markers: [], control: 'x', dataPorts: [] }), /not a pcap file/);
});
