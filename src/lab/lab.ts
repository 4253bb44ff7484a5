/**
 * A lab: a real replica of a fleet on this machine, one network namespace and one private
 * filesystem per machine, real servers inside. This is the API drills and tests call:
 *
 *   const lab = await Lab.up({ id: 'lb0', fleetFile: 'examples/go-speed/fleet.yaml', log: console.log });
 *   await lab.exec('primary', 'ls /wwwroot');
 *   await lab.fault({ kind: 'machine-down', host: 'primary' });
 *   await lab.heal();
 *   await lab.down();
 */
import { existsSync, readFileSync } from 'node:fs';
import { chmod, copyFile, mkdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadFleet } from '../fleet/load.ts';
import type { Fleet } from '../fleet/schema.ts';
import { shq, type Remote, type RunOptions, type RunResult } from '../remote/remote.ts';
import { isAlive, startAnchor, stopAnchor, writeAnchorScript, type PidRef } from './anchor.ts';
import { writeDerivedFleet } from './derived-fleet.ts';
import { fleetHostFolders } from './fleet-folders.ts';
import { onMachine, standInProblems } from './servers/standins.ts';
import { installationDirs } from '../fleet/model.ts';
import { LabError } from './errors.ts';
import { applyFault, healFaults, reapplySwitchFaults } from './faults.ts';
import type { ActiveFault, FaultSpec } from './fault-kinds.ts';
import { ensureHostDisk } from './host-disk.ts';
import { execRaw } from './host-exec.ts';
import { writeHostFiles, writeOperatorFiles } from './host-files.ts';
import { ensureLabSecrets } from './lab-secrets.ts';
import { LabRemote } from './lab-remote.ts';
import { assertNoDefaultRoute, ensureHostLink, ensureSwitch } from './network.ts';
import { labPaths, OPERATOR_FLEET_FILE, type LabPaths } from './paths.ts';
import { assertLabId, managedHosts, planLab, type LabHost, type LabPlan } from './plan.ts';
import type { HostContext, LabSecrets, LabServer } from './servers/context.ts';
import { SERVERS } from './servers/index.ts';
import { hostPublicKeyPath } from './servers/sshd.ts';
import { putFile } from './servers/files.ts';
import { readState, writeState, type LabState } from './state.ts';
import { teardown } from './teardown.ts';
import { withLabLock } from './lock.ts';
import { labMemory, labStatus, listLabs, mib, type LabStatus, type LabSummary } from './lab-status.ts';
import type { LabView } from './lab-view.ts';

export type { HostStatus, LabStatus, LabSummary } from './lab-status.ts';

export const DEFAULT_LAB_ID = 'lb0';

export interface LabUpOptions {
  id?: string;
  fleetFile: string;
  /** Progress lines for people (one per host, with timings). Never receives secrets. */
  log?: (line: string) => void;
}

/** The directory holding lifeboat's package.json (mounted read-only at /lifeboat in hosts). */
export function repoDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 10; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  throw new LabError('not-found', 'cannot find the lifeboat repository (package.json) above src/lab');
}

function assertRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new LabError('not-root', 'the lab needs root (network namespaces, mounts, nftables): run it with sudo or as root');
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

export class Lab implements LabView {
  readonly paths: LabPaths;

  private constructor(
    private state: LabState,
    /** The fleet the lab was built from, parsed (addresses are the input's, not the lab's). */
    readonly fleet: Fleet,
    private readonly secrets: LabSecrets,
  ) {
    this.paths = labPaths(state.id);
  }

  /** Builds the lab, or checks and repairs it when it is already up (fast the second time). */
  static async up(options: LabUpOptions): Promise<Lab> {
    assertRoot();
    const id = options.id ?? DEFAULT_LAB_ID;
    assertLabId(id);
    return withLabLock(id, () => Lab.bringUp(id, options));
  }

  private static async bringUp(id: string, options: LabUpOptions): Promise<Lab> {
    const log = options.log ?? (() => undefined);
    const started = performance.now();
    const fleetSource = resolve(options.fleetFile);
    const fleet = await loadFleet(fleetSource);
    // Refused before anything is made: a lab without some service would pass drills it should fail.
    const unplayable = standInProblems(fleet);
    if (unplayable.length > 0) {
      throw new LabError('bad-fleet', `the lab cannot stand in for every service of the fleet: ${unplayable.join('; ')}`);
    }
    const plan = planLab(id, fleet);
    const paths = labPaths(id);
    await mkdir(paths.hostsDir, { recursive: true, mode: 0o755 });
    let previous: LabState | undefined;
    if (existsSync(paths.stateFile)) previous = await readState(id);
    if (previous && JSON.stringify(previous.plan) !== JSON.stringify(plan)) {
      throw new LabError('bad-fleet', `lab ${id} is up with another fleet (${previous.fleetSource}); run \`lifeboat lab down --id ${id}\` first`);
    }
    const hostFolders = fleetHostFolders(fleet);
    if (hostFolders.problems.length > 0) {
      throw new LabError('bad-fleet', `the lab cannot give every host its own copy of these folders of the fleet: ${hostFolders.problems.join('; ')}`);
    }
    const secrets = await ensureLabSecrets(paths, fleet);
    await writeAnchorScript(id, hostFolders.folders);
    const existing = await ensureSwitch(id);
    const lab = new Lab(
      {
        version: 1,
        id,
        fleetSource,
        repoDir: repoDir(),
        plan,
        anchors: previous?.anchors ?? {},
        faults: previous?.faults ?? [],
        upAt: new Date().toISOString(),
      },
      fleet,
      secrets,
    );
    // Per host: cable, then disk and configuration, then (once every cable is checked for a
    // way out) the host and its servers — pipelined, so a slow host does not hold the rest.
    const linked = plan.hosts.map((h) => ensureHostLink(id, h, existing));
    const prepared = plan.hosts.map((h, i) => linked[i]!.then(() => lab.prepareHost(h)));
    const networkReady = Promise.all(linked).then(async () => {
      await assertNoDefaultRoute(plan);
      if (previous) await reapplySwitchFaults(id, plan, previous.faults);
      log(`network: switch ${id}-net and ${plan.hosts.length} hosts ready (${seconds(performance.now() - started)})`);
    });
    const files = Promise.all(prepared).then(async () => {
      await lab.writeKnownHosts();
      await writeDerivedFleet(fleetSource, plan, paths);
      // The operator's own copy in the ops host, which recoveries write their roles into
      // (the shared folder is read-only in hosts, like a fleet file on someone else's disk).
      const opsRoot = join(paths.host('ops'), 'root');
      await copyFile(paths.fleetFile, join(opsRoot, 'fleet.yaml'));
      await chmod(join(opsRoot, 'fleet.yaml'), 0o600);
    });
    try {
      await Promise.all([
        networkReady,
        files,
        ...plan.hosts.map(async (h, i) => {
          await prepared[i];
          await networkReady;
          const t0 = performance.now();
          const report = await lab.startHost(h);
          log(`${h.name.padEnd(10)} ${h.address.padEnd(15)} ${report.padEnd(48)} ${seconds(performance.now() - t0)}`);
        }),
      ]);
    } finally {
      await writeState(lab.state);
    }
    const upIn = performance.now() - started;
    const memory = await labMemory(id, plan.hosts.map((h) => paths.host(h.name)));
    log(`lab ${id} up in ${seconds(upIn)}; ${memory.processes} processes, memory ${mib(memory.pssBytes)} + disks ${mib(memory.diskBytes)}; fleet file: ${paths.fleetFile}`);
    return lab;
  }

  /** Opens a lab that `lab up` (maybe another process) brought up. */
  static async open(id = DEFAULT_LAB_ID): Promise<Lab> {
    assertRoot();
    assertLabId(id);
    const state = await readState(id);
    const fleet = await loadFleet(state.fleetSource).catch(() => loadFleet(labPaths(id).fleetFile));
    const secrets = await ensureLabSecrets(labPaths(id), fleet);
    return new Lab(state, fleet, secrets);
  }

  get id(): string {
    return this.state.id;
  }

  get plan(): LabPlan {
    return this.state.plan;
  }

  get hosts(): readonly LabHost[] {
    return this.state.plan.hosts;
  }

  /** The lab's secret values by name (a drill's wire capture looks for them in clear text). */
  secretValues(): Record<string, string> {
    return Object.fromEntries(Object.entries(this.secrets).filter((e): e is [string, string] => typeof e[1] === 'string'));
  }

  /** The derived fleet file: lab addresses, lab keys, lab secrets. */
  get fleetFile(): string {
    return this.paths.fleetFile;
  }

  /**
   * The operator's fleet file inside the ops host (a copy of `fleetFile`, written again by
   * every `lab up`): the one to give commands run in ops that may change roles.
   */
  get operatorFleetFile(): string {
    return OPERATOR_FLEET_FILE;
  }

  get faults(): readonly ActiveFault[] {
    return this.state.faults;
  }

  host(name: string): LabHost {
    const host = this.state.plan.hosts.find((h) => h.name === name);
    if (!host) {
      throw new LabError('unknown-host', `lab ${this.id} has no host "${name}" (hosts: ${this.hosts.map((h) => h.name).join(', ')})`);
    }
    return host;
  }

  /** The host's PID 1 as seen from the machine; throws when the host is not running. */
  anchorPid(name: string): number {
    this.host(name);
    let ref = this.state.anchors[name];
    if (!isAlive(ref)) {
      // Another process (a heal, a second `lab up`) may have restarted the host since.
      try {
        const onDisk = JSON.parse(readFileSync(this.paths.stateFile, 'utf8')) as LabState;
        const fresh = onDisk.anchors[name];
        if (fresh && isAlive(fresh)) ref = this.state.anchors[name] = fresh;
      } catch {
        /* no state on disk: the lab is gone */
      }
    }
    if (!ref || !isAlive(ref)) throw new LabError('not-found', `host ${name} of lab ${this.id} is not running`);
    return ref.pid;
  }

  /** Runs `command` with `sh -c` inside the host. Resolves whatever the exit code. */
  async exec(host: string, command: string, options: RunOptions = {}): Promise<RunResult> {
    const r = await execRaw(this.anchorPid(host), host, command, options);
    return { code: r.code, signal: r.signal, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8'), ms: r.ms };
  }

  /** A `Remote` into the host over nsenter (no SSH needed; follows the host across restarts). */
  remote(host: string): Remote {
    this.host(host);
    return new LabRemote(host, () => this.anchorPid(host));
  }

  /** Hosts, servers, supervisor programs and faults in force, checked now. */
  async status(): Promise<LabStatus> {
    return labStatus(this);
  }

  /** True when the host's PID 1 is alive. */
  hostRunning(name: string): boolean {
    return isAlive(this.state.anchors[name]);
  }

  async fault(spec: FaultSpec): Promise<void> {
    await withLabLock(this.id, async () => {
      await this.refresh();
      try {
        await applyFault(this, spec);
      } finally {
        await this.saveState(); // a stopped host's anchor is gone from the state
      }
    });
  }

  /** Undoes one fault, or every fault in force when none is given. */
  async heal(spec?: FaultSpec): Promise<void> {
    await withLabLock(this.id, async () => {
      await this.refresh();
      try {
        await healFaults(this, spec);
      } finally {
        await this.saveState(); // a rebooted host has a new anchor
      }
    });
  }

  /** Stops every host and removes every namespace, mount and file of the lab. */
  async down(): Promise<void> {
    assertRoot();
    await withLabLock(this.id, async () => {
      await this.refresh().catch(() => undefined);
      await teardown(this.id, this.state.anchors);
    });
  }

  /** Re-reads the state another process (or another Lab object) may have changed. */
  private async refresh(): Promise<void> {
    this.state = await readState(this.id);
  }

  /** Labs on this machine, half-built ones included. */
  static async list(): Promise<LabSummary[]> {
    return listLabs();
  }

  /** Tears down a lab by id even when its state is unreadable (namespaces are found by prefix). */
  static async down(id = DEFAULT_LAB_ID): Promise<void> {
    assertRoot();
    assertLabId(id);
    await withLabLock(id, async () => {
      let anchors: Record<string, PidRef> = {};
      try {
        anchors = (await readState(id)).anchors;
      } catch {
        /* nothing recorded: teardown still finds the namespaces by prefix */
      }
      await teardown(id, anchors);
    });
  }

  // ——— for faults.ts and the lab's own bring-up ———

  serversOf(host: LabHost): LabServer[] {
    return SERVERS.filter((s) => s.wants(host, this.plan, this.fleet));
  }

  hostContext(host: LabHost): HostContext {
    return {
      plan: this.plan,
      fleet: this.fleet,
      host,
      paths: this.paths,
      dir: this.paths.host(host.name),
      repoDir: this.state.repoDir,
      secrets: this.secrets,
      faults: this.state.faults,
      exec: (command, options) => this.exec(host.name, command, options),
    };
  }

  /** Disk, per-host files and server configuration, written from the machine. */
  async prepareHost(host: LabHost): Promise<void> {
    const dir = this.paths.host(host.name);
    await ensureHostDisk(dir, host.kind === 'fleet' || host.kind === 'spare' ? '2g' : '256m');
    await writeHostFiles(dir, this.plan, host);
    if (host.kind === 'ops') await writeOperatorFiles(dir, this.paths.ssh);
    // Daemons running as their own users (mariadbd's temporary files) need a sticky /tmp.
    for (const tmp of ['tmp', 'var-tmp']) {
      await mkdir(join(dir, tmp), { recursive: true });
      await chmod(join(dir, tmp), 0o1777);
    }
    const ctx = this.hostContext(host);
    // A real machine has its installation's folders (the scripts folder a crontab runs from)
    // even when they are empty; recoveries copy and archive them.
    if (host.kind === 'fleet') {
      const installed = installationDirs(ctx.fleet, { name: host.name, address: host.address, roles: [...host.roles], domains: [], offsite: false });
      for (const path of installed) await mkdir(onMachine(ctx, path), { recursive: true });
    }
    for (const server of this.serversOf(host)) await server.configure(ctx);
  }

  /**
   * Starts the host's anchor when it is not running and every server that is not running,
   * leaving alone what a fault in force keeps down. Returns a one-line report.
   */
  async startHost(host: LabHost): Promise<string> {
    if (this.hasFault((f) => f.kind === 'machine-down' && f.host === host.name)) return 'down (fault machine-down in force)';
    let anchor = this.state.anchors[host.name];
    const fresh = !isAlive(anchor);
    if (fresh) {
      anchor = await startAnchor({ id: this.id, host: host.name, repoDir: this.state.repoDir });
      this.state.anchors[host.name] = anchor;
    }
    const ctx = this.hostContext(host);
    // The servers of one host do not need each other to start: start them side by side.
    const parts = await Promise.all(
      this.serversOf(host).map(async (server) => {
        if (server.name === 'mariadb' && this.hasFault((f) => f.kind === 'mariadb-crashed' && f.host === host.name)) {
          return 'mariadb(crashed)';
        }
        // A host that just booted runs nothing of its own yet: a pid file left on its disk may
        // name a number the new PID namespace already gave another process (seen in CI:
        // "supervisord running", then `supervisorctl update` found no supervisord).
        if (!fresh && (await server.running(ctx))) {
          await server.refresh?.(ctx);
          return `${server.name}=ok`;
        }
        const t0 = performance.now();
        await server.start(ctx);
        return `${server.name}+${Math.round(performance.now() - t0)}ms`;
      }),
    );
    parts.unshift(fresh ? 'booted' : 'running');
    if (fresh) {
      // supervisord just started every program: a crashed service stays crashed.
      for (const f of this.state.faults) {
        if (f.kind === 'service-crashed' && f.host === host.name) {
          await this.exec(host.name, `supervisorctl -c /etc/supervisor/supervisord.conf stop ${shq(f.program)}`);
          parts.push(`${f.program}(crashed)`);
        }
      }
    }
    return parts.join(' ');
  }

  /** Kills the host's PID 1 and with it every process of the host. */
  async stopHost(host: LabHost): Promise<void> {
    await stopAnchor(this.state.anchors[host.name]);
    delete this.state.anchors[host.name];
  }

  hasFault(match: (f: ActiveFault) => boolean): boolean {
    return this.state.faults.some(match);
  }

  async recordFaults(faults: ActiveFault[]): Promise<void> {
    this.state.faults = faults;
    await writeState(this.state);
  }

  async saveState(): Promise<void> {
    await writeState(this.state);
  }

  private async writeKnownHosts(): Promise<void> {
    const lines: string[] = [];
    for (const h of managedHosts(this.plan)) {
      const [type, key] = (await readFile(hostPublicKeyPath({ dir: this.paths.host(h.name) }), 'utf8')).trim().split(/\s+/);
      lines.push(`${h.name},${h.address} ${type} ${key}`);
    }
    await putFile(join(this.paths.ssh, 'known_hosts'), lines.join('\n') + '\n');
  }
}
