/**
 * One reading of the conditions on the machines that are alive (src/health/conditions.ts
 * decides what is wrong): the fleet's status, the disks under the fleet's own folders, the
 * newest copy on every backup store, how far each store's binary log copy is behind, and the
 * certificates the daemon's probes saw.
 */
import type { ActionContext } from '../actions/action.ts';
import { readDomainList } from '../actions/domains.ts';
import { binlogCopies } from '../backup/binlog-status.ts';
import { inspectStamp, listStamps } from '../backup/catalog.ts';
import { dateOfStamp } from '../backup/layout.ts';
import { DEBIAN_DATADIR } from '../backup/mariadb-local.ts';
import { backupSettings } from '../backup/settings.ts';
import { dataDirs, installationDirs, machinesWithRole, storesInService } from '../fleet/model.ts';
import type { Machine } from '../fleet/schema.ts';
import type { BackupReading, CertReading, DiskReading, HealthReading } from '../health/conditions.ts';
import { parseDf } from '../health/conditions.ts';
import type { FleetStatus } from '../health/fleet-status.ts';
import { fanOut } from '../remote/fanout.ts';
import { shq } from '../remote/remote.ts';

/** The folders whose disks matter on a machine: what the fleet keeps there. */
export function foldersOf(ctx: ActionContext, m: Machine): string[] {
  const fleet = ctx.fleet;
  const mine = installationDirs(fleet, m);
  const data = dataDirs(fleet).filter((d) => mine.some((dir) => d === dir || d.startsWith(`${dir}/`)) || (fleet.backups?.dumpDir === d && m.roles.includes('backup-store')));
  const db = m.roles.includes('db-primary') || m.roles.includes('db-replica') ? [DEBIAN_DATADIR] : [];
  const edge = m.roles.includes('edge') && fleet.nginx ? fleet.nginx.siteFiles : [];
  const all = [...new Set([...mine, ...data, ...db, ...edge])];
  return all.length > 0 ? all : ['/'];
}

async function disksOf(ctx: ActionContext, m: Machine): Promise<DiskReading[]> {
  // Folders that do not exist are left out by df (with a complaint on stderr, not read).
  const folders = foldersOf(ctx, m);
  const r = await ctx.remote(m.name).run(`df -P -k -- ${folders.map(shq).join(' ')} 2>/dev/null; true`, { timeoutMs: 10_000 });
  const disks = parseDf(m.name, r.stdout);
  if (disks.length === 0) throw new Error(`df printed nothing for ${folders.join(', ')}`);
  return disks;
}

async function newestCopy(ctx: ActionContext, store: string, now: number): Promise<BackupReading> {
  const settings = backupSettings(ctx.fleet);
  const stamps = (await listStamps(ctx, settings, store)).slice(0, 5);
  for (const stamp of stamps) {
    const status = await inspectStamp(ctx, settings, store, stamp, false);
    if (status.manifest) return { store, newest: stamp, ageS: Math.round((now - dateOfStamp(stamp).getTime()) / 1000), bytes: status.copies.reduce((n, c) => n + c.bytes, 0) };
  }
  return { store };
}

export async function readHealth(ctx: ActionContext, alive: ReadonlySet<string>, status: () => Promise<FleetStatus>, certs: readonly CertReading[]): Promise<HealthReading> {
  const fleet = ctx.fleet;
  const living = fleet.machines.filter((m) => alive.has(m.name) && !m.down);
  // The copies are measured against the primary: with it not judged alive there is nothing to measure.
  const primary = machinesWithRole(fleet, 'db-primary')[0];
  const primaryAlive = primary !== undefined && alive.has(primary.name);
  const [fleetNow, disks, backups, copies, domains] = await Promise.all([
    status(),
    fanOut(living, 2, (m) => disksOf(ctx, m)),
    fleet.backups && fleet.database
      ? fanOut(storesInService(fleet).filter((s) => alive.has(s)), 2, (store) => newestCopy(ctx, store, Date.now()))
      : Promise.resolve([]),
    primaryAlive ? binlogCopies(ctx).then((all) => all.filter((c) => alive.has(c.store))) : Promise.resolve(undefined),
    primaryAlive && fleet.database
      ? readDomainList(ctx, primary.name, { connectTimeoutMs: 3000 }).then((rows) => ({ rows }), (error: unknown) => ({ error: (error as Error).message }))
      : Promise.resolve(undefined),
  ]);
  return {
    status: fleetNow,
    disks: disks.flatMap((r) => (r.ok ? r.value : [])),
    diskErrors: disks.flatMap((r) => (r.ok ? [] : [{ machine: r.item.name, error: (r.error as Error).message }])),
    backups: backups.map((r) => (r.ok ? r.value : { store: r.item, error: (r.error as Error).message })),
    ...(copies ? { binlogCopies: copies } : {}),
    ...(domains && 'rows' in domains ? { domainList: domains.rows } : {}),
    ...(domains && 'error' in domains ? { domainListError: domains.error } : {}),
    certs,
  };
}
