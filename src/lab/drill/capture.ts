/**
 * A drill's `--capture`: tcpdump on the lab switch's bridge, every packet between the hosts
 * from before `prepare` to the end of the recovery, and marker values planted in MariaDB and
 * Redis on the primary (once before prepare, so the seed copy carries one, and once after it,
 * so replication does). `src/lab/drill/wire.ts` reads the capture back.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod } from 'node:fs/promises';
import { machinesWithRole, tlsPorts } from '../../fleet/model.ts';
import { shq } from '../../remote/remote.ts';
import type { Lab } from '../lab.ts';
import { BRIDGE, switchNamespace } from '../network.ts';
import { readWire, type WireReport } from './wire.ts';

/** The table the markers go to, in the fleet's schema (the seed copies only that schema). */
export const MARKER_TABLE = 'lifeboat_wire_marker';
export const MARKER_KEY_PREFIX = 'lifeboat:wire-marker:';

export interface Capture {
  /** Plants one marker row and one marker key on the primaries. */
  plant(): Promise<void>;
  /** Stops tcpdump and reads the capture. */
  finish(): Promise<WireReport>;
}

async function started(child: ChildProcess): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`tcpdump did not start: ${err.trim()}`)), 10_000);
    child.stderr?.on('data', (chunk: Buffer) => {
      err += chunk.toString();
      if (/listening on/.test(err)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`tcpdump exited ${code}: ${err.trim()}`));
    });
  });
}

export async function startCapture(lab: Lab, file: string): Promise<Capture> {
  const child = spawn('nsenter', [`--net=/run/netns/${switchNamespace(lab.id)}`, '--', 'tcpdump', '-i', BRIDGE, '-U', '-s', '0', '-n', '-w', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  await started(child);
  // Everything the hosts said, HTTP bodies included: the lab's, and the operator's only.
  await chmod(file, 0o600).catch(() => undefined);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const markers: string[] = [];
  const fleet = lab.fleet;
  const secrets = lab.secretValues();

  async function plant(): Promise<void> {
    const db = fleet.database;
    const dbPrimary = machinesWithRole(fleet, 'db-primary')[0];
    if (db && dbPrimary) {
      const marker = `wire-row-${randomBytes(12).toString('hex')}`;
      // On the machine, over its socket: the planting itself crosses no wire.
      const table = `\`${db.schema}\`.\`${MARKER_TABLE}\``;
      const sql = `CREATE TABLE IF NOT EXISTS ${table} (id INT AUTO_INCREMENT PRIMARY KEY, marker VARCHAR(64) NOT NULL); INSERT INTO ${table} (marker) VALUES ('${marker}');`;
      const r = await lab.exec(dbPrimary.name, `mariadb -e ${shq(sql)}`, { timeoutMs: 20_000 });
      if (r.code !== 0) throw new Error(`planting a marker row on ${dbPrimary.name}: ${r.stderr.trim()}`);
      markers.push(marker);
    }
    const redisPrimary = machinesWithRole(fleet, 'redis')[0];
    if (fleet.redis && redisPrimary) {
      // The fleet file's addresses are the real fleet's; the lab's host has its own.
      const address = lab.hosts.find((h) => h.name === redisPrimary.name)?.address ?? redisPrimary.address;
      const marker = `wire-key-${randomBytes(12).toString('hex')}`;
      const r = await lab.exec(
        redisPrimary.name,
        `IFS= read -r pass || true; [ -n "$pass" ] && export REDISCLI_AUTH="$pass"; redis-cli --no-auth-warning -h ${shq(address)} -p ${fleet.redis.port} SET ${shq(`${MARKER_KEY_PREFIX}${marker}`)} ${shq(marker)}`,
        { timeoutMs: 20_000, stdin: `${secrets.redisPassword ?? ''}\n` },
      );
      if (r.code !== 0 || !/OK/.test(r.stdout)) throw new Error(`planting a marker key on ${redisPrimary.name}: ${(r.stderr || r.stdout).trim()}`);
      markers.push(marker);
    }
  }

  async function finish(): Promise<WireReport> {
    if (child.exitCode === null) child.kill('SIGINT');
    await exited;
    const ports = [fleet.database?.port, fleet.redis?.port, fleet.tls.enabled && fleet.database ? tlsPorts(fleet).database : undefined, fleet.tls.enabled && fleet.redis ? tlsPorts(fleet).redis : undefined]
      .filter((p): p is number => p !== undefined);
    const control = fleet.machines.find((m) => m.roles.includes('edge') && m.domains.length > 0)?.domains[0] ?? 'HTTP/1.1';
    return readWire(file, { secrets, markers, control, dataPorts: ports });
  }

  return { plant, finish };
}
