/**
 * Installation files — the services' folders under /wwwroot, nginx's configuration, /shell,
 * crontabs — archived from each machine onto every backup store, so a machine can be
 * rebuilt from scratch (seed scenario 5). Data folders are left out: upload files follow by
 * their own sync, databases by replication and dumps.
 *
 * An archive is named after a hash of what it holds (paths, modes, owners, link targets,
 * contents), so an unchanged machine gives the same name and prepare has nothing to do.
 * It travels source → operator → store; off-site stores get it sealed (util/seal.ts: streamed AES-GCM).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ActionError, type Action, type ActionContext, type Change } from '../actions/action.ts';
import { CRONTAB_FILE, renderCrontab } from '../actions/crontab.ts';
import { unitPathOf } from '../actions/service-units.ts';
import { configFilesOutside, dataDirs, installationDirs, servicesOn, storesInService } from '../fleet/model.ts';
import type { Fleet, Machine } from '../fleet/schema.ts';
import { RemoteCommandError, runChecked, shq } from '../remote/remote.ts';
import { sha256OfFile } from '../util/file-hash.ts';
import { sealFile } from '../util/seal.ts';
import { readIfExists } from '../actions/desired-file.ts';
import type { PrepareOptions } from './prepare-options.ts';

export interface InstallSet {
  machine: Machine;
  /** Absolute paths to archive (those that exist on the machine are taken). */
  paths: string[];
  /** Absolute paths left out (data folders). */
  exclude: string[];
  /** The machine's crontab as the fleet declares it, archived beside the real one. */
  fleetCrontab: string;
}

export function installSet(fleet: Fleet, m: Machine, options: PrepareOptions): InstallSet {
  const services = servicesOn(fleet, m);
  // Each service's unit (supervisor program, systemd unit) too: without it a rebuilt machine
  // has the files but no way to run them.
  const units = services.flatMap(([name, s]) => unitPathOf(name, s.driver) ?? []);
  const paths = [...installationDirs(fleet, m), ...configFilesOutside(fleet, m), ...units, '/var/spool/cron/crontabs', CRONTAB_FILE];
  if (m.roles.includes('edge')) paths.push('/etc/nginx');
  paths.push(fleetCrontabPath(options, m.name));
  return {
    machine: m,
    paths: [...new Set(paths)],
    // Uploads have their own sync and dumps their own stores: neither goes into an archive.
    exclude: dataDirs(fleet),
    fleetCrontab: renderCrontab(fleet, m.roles),
  };
}

export function fleetCrontabPath(options: PrepareOptions, machine: string): string {
  return `${options.stateDir}/install/fleet-crontab-${machine}`;
}

/** Machines worth archiving: every machine but bare spares. */
export function archivedMachines(fleet: Fleet): Machine[] {
  // A machine out of service has nothing to archive, and cannot be reached to archive it.
  return fleet.machines.filter((m) => !m.down && !(m.roles.length === 1 && m.roles[0] === 'spare'));
}

export interface Store {
  machine: Machine;
  encrypted: boolean;
  dir: string;
}

export function storesFor(fleet: Fleet, source: Machine, options: PrepareOptions): Store[] {
  const names = storesInService(fleet);
  const installDir = fleet.backups?.installDir;
  if (!installDir) return [];
  return fleet.machines
    .filter((m) => names.includes(m.name) && m.name !== source.name)
    .map((m) => ({ machine: m, encrypted: m.offsite, dir: options.archiveDir(m.name, installDir, source.name) }));
}

/** Shell: the existing paths of the set, relative to /, one per line. */
function existingCommand(set: InstallSet): string {
  return `for p in ${set.paths.map(shq).join(' ')}; do [ -e "$p" ] && printf '%s\\n' "\${p#/}"; done; true`;
}

function tarExcludes(set: InstallSet): string {
  return set.exclude.map((e) => `--exclude=${shq(e.replace(/^\//, ''))}`).join(' ');
}

/** Shell: a hash of names, modes, owners, link targets and contents of the set. */
function fingerprintCommand(set: InstallSet, relative: string[]): string {
  if (relative.length === 0) return 'echo empty';
  const prune = set.exclude.map((e) => `-path ${shq(e.replace(/^\//, ''))} -prune -o`).join(' ');
  const list = relative.map(shq).join(' ');
  return `cd / && { find ${list} ${prune} -printf '%p %m %U %G %l\\n' | LC_ALL=C sort; ` +
    `find ${list} ${prune} -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum; } | sha256sum | cut -c1-16`;
}

export function archiveName(machine: string, fingerprint: string, encrypted: boolean): string {
  return `install-${machine}-${fingerprint}.tar.gz${encrypted ? '.enc' : ''}`;
}

export function archiveInstallation(fleet: Fleet, set: InstallSet, options: PrepareOptions): Action {
  const m = set.machine;

  async function inspect(ctx: ActionContext) {
    const source = ctx.remote(m.name);
    const crontab = await readIfExists(source, fleetCrontabPath(options, m.name));
    const relative = (await runChecked(source, existingCommand(set))).stdout.split('\n').filter(Boolean);
    const fingerprint = (await runChecked(source, fingerprintCommand(set, relative), { timeoutMs: 120_000 })).stdout.trim();
    const stores = storesFor(ctx.fleet, m, options);
    const missing: Store[] = [];
    for (const store of stores) {
      const name = archiveName(m.name, fingerprint, store.encrypted);
      const check = `cd ${shq(store.dir)} 2>/dev/null && sha256sum --status -c ${shq(`${name}.sha256`)} && [ "$(cat LATEST 2>/dev/null)" = ${shq(name)} ]`;
      if ((await ctx.remote(store.machine.name).run(check, { timeoutMs: 120_000 })).code !== 0) missing.push(store);
    }
    return { relative, fingerprint, stores, missing, crontabCurrent: crontab === set.fleetCrontab };
  }

  function tarCommand(relative: string[], staging: string): string {
    // Configs and crontabs hold secrets: the archive is 0600 from its first byte.
    return `mkdir -p ${shq(`${options.stateDir}/install`)} && umask 077 && tar -C / -czf ${shq(staging)} ${tarExcludes(set)} ${relative.map(shq).join(' ')}`;
  }

  function storeCommands(store: Store, name: string): string[] {
    const keep = options.keepArchives;
    return [
      `umask 077 && mkdir -p ${shq(store.dir)} && cd ${shq(store.dir)} && chmod 0600 ${shq(`.${name}.partial`)} && mv ${shq(`.${name}.partial`)} ${shq(name)} && sha256sum ${shq(name)} > ${shq(`${name}.sha256`)} && printf '%s\\n' ${shq(name)} > LATEST.tmp && mv LATEST.tmp LATEST`,
      // Keep the newest archives of this machine; the one just written is always among them.
      `cd ${shq(store.dir)} && ls -1t ${shq(`install-${m.name}-`)}*.tar.gz* 2>/dev/null | grep -v '\\.sha256$' | grep -vxF ${shq(name)} | tail -n +${keep} | while read -r f; do rm -f -- "$f" "$f.sha256"; done`,
    ];
  }

  return {
    title: `Archive ${m.name}'s installation files on the backup stores`,
    machines: [m.name, ...storesFor(fleet, m, options).map((s) => s.machine.name)],
    mutating: true,
    async plan(ctx) {
      const s = await inspect(ctx);
      const changes: Change[] = [];
      if (!s.crontabCurrent) changes.push({ kind: 'file', machine: m.name, path: fleetCrontabPath(options, m.name), diff: `(fleet crontab for ${m.name})\n${set.fleetCrontab}` });
      if (s.missing.length === 0 && s.crontabCurrent) return [];
      const staging = `${options.stateDir}/install/install-${m.name}.tar.gz`;
      changes.push({ kind: 'command', machine: m.name, command: tarCommand(s.relative, staging) });
      for (const store of s.stores.length ? s.stores : []) {
        const name = archiveName(m.name, s.fingerprint, store.encrypted);
        changes.push({ kind: 'note', machine: store.machine.name, text: `copy ${staging} from ${m.name} through the operator's machine${store.encrypted ? ', encrypted with backups.encryptionKey' : ''} to ${store.dir}/.${name}.partial` });
        for (const command of storeCommands(store, name)) changes.push({ kind: 'command', machine: store.machine.name, command });
      }
      return changes;
    },
    async apply(ctx) {
      const source = ctx.remote(m.name);
      const crontabPath = fleetCrontabPath(options, m.name);
      await runChecked(source, `mkdir -p ${shq(`${options.stateDir}/install`)}`);
      await source.writeFile(crontabPath, set.fleetCrontab, { backup: false, mode: 0o644 });
      const s = await inspect(ctx);
      if (s.missing.length === 0) return;
      const staging = `${options.stateDir}/install/install-${m.name}.tar.gz`;
      const local = await mkdtemp(join(tmpdir(), 'lifeboat-install-'));
      try {
        const tarred = await source.run(tarCommand(s.relative, staging), { timeoutMs: 30 * 60_000 });
        // GNU tar exits 1 when a file changed while it was read: the archive is still whole.
        if (tarred.code !== 0 && tarred.code !== 1) throw new RemoteCommandError(m.name, tarCommand(s.relative, staging), tarred);
        const clear = join(local, 'clear.tar.gz');
        await source.download(staging, clear);
        await source.run(`rm -f ${shq(staging)}`);
        for (const store of s.missing) {
          const name = archiveName(m.name, s.fingerprint, store.encrypted);
          let file = clear;
          if (store.encrypted) {
            const ref = ctx.fleet.backups?.encryptionKey;
            if (!ref) throw new ActionError('precondition', `${store.machine.name} is off-site: set backups.encryptionKey so its copy is encrypted`);
            file = join(local, `${store.machine.name}.enc`);
            await sealFile(clear, file, await ctx.secret(ref));
          }
          const remote = ctx.remote(store.machine.name);
          await runChecked(remote, `mkdir -p ${shq(store.dir)}`);
          await remote.upload(file, `${store.dir}/.${name}.partial`);
          for (const command of storeCommands(store, name)) await runChecked(remote, command, { timeoutMs: 120_000 });
          const expected = await sha256OfFile(file);
          const written = (await runChecked(remote, `cut -d' ' -f1 ${shq(`${store.dir}/${name}.sha256`)}`)).stdout.trim();
          if (written !== expected) throw new ActionError('apply-failed', `${store.machine.name}: ${store.dir}/${name} arrived damaged (sha256 ${written}, sent ${expected})`);
          ctx.log(`${m.name}: installation archive ${name} on ${store.machine.name}`);
        }
      } finally {
        await rm(local, { recursive: true, force: true });
      }
    },
    async verify(ctx) {
      const s = await inspect(ctx);
      if (s.stores.length === 0) throw new ActionError('verify-failed', `${m.name}: no backup store other than itself to keep its installation files`);
      if (s.missing.length) {
        throw new ActionError('verify-failed', `${m.name}: the latest installation archive is missing or damaged on ${s.missing.map((x) => x.machine.name).join(', ')}`);
      }
      if (!s.crontabCurrent) throw new ActionError('verify-failed', `${m.name}: ${fleetCrontabPath(options, m.name)} is not the fleet's crontab`);
    },
  };
}
