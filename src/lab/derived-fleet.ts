/**
 * The fleet file of a running lab: the input fleet with every machine at its lab address,
 * the spares added, SSH pointed at the lab's key and known_hosts, fencing by the lab's
 * provider stand-in (provider.ts), a users'-side probe token, every secret a `file:`
 * reference into the lab's shared folder, and the lab's own start/stop commands as the
 * MariaDB, Redis and nginx drivers (lab hosts have no systemd). Other lifeboat commands run against it unchanged,
 * on the machine or inside the ops host (the shared folder has the same path in both).
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { parseFleet } from '../fleet/load.ts';
import type { Fleet } from '../fleet/schema.ts';
import { secretRefFor } from './lab-secrets.ts';
import type { LabPaths } from './paths.ts';
import type { LabPlan } from './plan.ts';
import { writeProviderScript } from './provider.ts';
import { labServerDrivers } from './server-drivers.ts';

type Raw = Record<string, unknown>;

export function deriveFleet(input: Raw, plan: LabPlan, paths: LabPaths, fencingCommand?: string): Raw {
  const out = structuredClone(input);
  const byName = new Map(plan.hosts.map((h) => [h.name, h]));
  const machines: Raw[] = (out.machines as Raw[]).map((m): Raw => {
    const host = byName.get(String(m.name));
    // Per-machine SSH overrides point at the real fleet's ports and users: the lab has one way in.
    const { ssh: _ssh, ...rest } = m;
    return { ...rest, address: host?.address ?? m.address };
  });
  for (const spare of plan.hosts.filter((h) => h.kind === 'spare')) {
    machines.push({ name: spare.name, address: spare.address, roles: ['spare'], notes: 'bare lab machine for provisioning a replacement' });
  }
  out.machines = machines;
  out.ssh = {
    ...((out.ssh as Raw | undefined) ?? {}),
    user: 'root',
    port: 22,
    identity: `file:${join(paths.ssh, 'id_ed25519')}`,
    knownHosts: join(paths.ssh, 'known_hosts'),
    connectTimeoutMs: 2000,
  };
  // Lab hosts have no systemd: servers start and stop as the lab starts them.
  const drivers = labServerDrivers();
  const db = out.database as Raw | undefined;
  if (db) {
    db.driver = drivers.database;
    db.password = secretRefFor(paths, 'dbAppPassword');
    db.adminPassword = secretRefFor(paths, 'dbAdminPassword');
    db.replicationPassword = secretRefFor(paths, 'dbReplicationPassword');
  }
  const redis = out.redis as Raw | undefined;
  if (redis) redis.driver = drivers.redis;
  if (redis?.password) redis.password = secretRefFor(paths, 'redisPassword');
  const nginx = out.nginx as Raw | undefined;
  if (nginx) nginx.driver = drivers.nginx;
  // Every service runs under the host's supervisor as its stand-in, whatever starts it on the
  // real machines (lab hosts have no systemd, and a command driver's commands start programs
  // the lab does not have): the program is named after the service.
  for (const [name, service] of Object.entries((out.services as Record<string, Raw> | undefined) ?? {})) {
    const driver = service.driver as Raw | undefined;
    if (driver && driver.type !== 'supervisor') service.driver = { type: 'supervisor', program: name };
    else if (driver?.program !== undefined && driver.program !== name) service.driver = { type: 'supervisor', program: name };
  }
  // A fleet's own fencing command calls its real provider: the lab's answers for lab hosts.
  if (fencingCommand) out.fencing = { command: fencingCommand, timeoutS: 30 };
  else delete out.fencing;
  // /etc is the machine's own (read-only) in lab hosts; /var/lib/lifeboat is each host's: the
  // CA lives in the ops host (where lifeboat runs), each machine's certificate in that machine.
  const tls = (out.tls as Raw | undefined) ?? {};
  out.tls = { ...tls, caDir: '/var/lib/lifeboat/tls-ca', machineDir: '/var/lib/lifeboat/tls' };
  const backups = out.backups as Raw | undefined;
  if (backups?.encryptionKey) backups.encryptionKey = secretRefFor(paths, 'backupKey');
  // The lab's client host is the users' side: its probe reports to a daemon in ops, signed
  // with the lab's token. The fleet's own probe settings (ports, interval) are kept.
  const watch = (out.watch as Raw | undefined) ?? {};
  watch.usersSide = { intervalS: 2, ...((watch.usersSide as Raw | undefined) ?? {}), token: secretRefFor(paths, 'probeToken') };
  // Conditions read every 15 s unless the fleet says otherwise: a drill lasts minutes, not
  // hours, and a reading every 5 s starved the rounds' witnesses on a 2-core lab.
  watch.health = { intervalS: 15, ...((watch.health as Raw | undefined) ?? {}) };
  out.watch = watch;
  return out;
}

/** Writes the derived fleet after checking it with lifeboat's own loader; returns it parsed. */
export async function writeDerivedFleet(fleetSource: string, plan: LabPlan, paths: LabPaths): Promise<Fleet> {
  const input = parse(await readFile(fleetSource, 'utf8')) as Raw;
  const derived = deriveFleet(input, plan, paths, await writeProviderScript(paths));
  const text =
    `# Lab "${plan.id}": derived by \`lifeboat lab up\` from ${fleetSource}.\n` +
    `# Rewritten on every \`lab up\`; edit the source fleet instead.\n` +
    stringify(derived, { lineWidth: 0 });
  const fleet = parseFleet(text, paths.fleetFile);
  const temp = `${paths.fleetFile}.tmp-${process.pid}`;
  await writeFile(temp, text, { mode: 0o644 });
  await rename(temp, paths.fleetFile);
  return fleet;
}
