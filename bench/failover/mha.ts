/**
 * MHA 0.58 (Debian's mha4mysql-manager and mha4mysql-node) on the lab, configured as its
 * documentation says: the manager on the operator's host, SSH public-key login between every
 * node, `candidate_master` on the standby, and a `secondary_check_script` over two other
 * machines so that one network route never decides (as lifeboat's witnesses do).
 *
 * As Debian packages it, MHA 0.58 cannot manage MariaDB 10.11 on Debian 12 at all; it stops
 * in its configuration check with (a) "Redundant argument in sprintf at NodeUtil.pm" — its
 * version parser feeds six numbers of "10.11.x-MariaDB-0+debXuY-log" to a three-number format,
 * and perl ≥ 5.22 makes that fatal (mha4mysql-manager#116, mha4mysql-node#35, both open) —
 * and, with that out of the way, (b) "Unknown system variable 'super_read_only'", which it
 * queries unconditionally although MariaDB has no such variable (mha4mysql-manager#142,
 * mha4mysql-node#38). Nor can it use MariaDB's GTIDs (its GTID mode is MySQL's auto-position):
 * it runs its file-and-position failover. The closest configuration it runs in is therefore
 * Debian's MHA with exactly the two workarounds those threads give, applied at bench time to
 * copies of the installed modules that are bind-mounted over the originals inside the lab's
 * hosts only (each host has its own mount namespace; the machine's files are never touched).
 */
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Lab } from '../../src/lab/lab.ts';

const MHA_MODULES = '/usr/share/perl5/MHA';
const WORKDIR = '/tmp/lifeboat-bench-mha';
const CONFIG = `${WORKDIR}/app1.cnf`;
const LOG = `${WORKDIR}/manager.log`;

export interface MhaSettings {
  adminUser: string;
  adminPassword: string;
  replicationUser: string;
  replicationPassword: string;
  primary: string;
  standby: string;
  /** Addresses the secondary check reaches the primary from. */
  secondaryRoutes: string[];
  port: number;
  binlogDir: string;
  /** MHA's ping interval in seconds (its default is 3; 1 is the fastest it takes). */
  pingIntervalS: number;
}

/** The manager's configuration file (app1.cnf in MHA's documentation). */
export function mhaConfig(s: MhaSettings): string {
  for (const value of [s.adminUser, s.adminPassword, s.replicationUser, s.replicationPassword]) {
    // MHA's parser reads the value to the end of the line and hands it to a shell later.
    if (!/^[A-Za-z0-9_.-]+$/.test(value)) throw new Error('MHA bench: database credentials must be letters, digits, _ . - (the lab makes them so)');
  }
  return [
    '[server default]',
    `user=${s.adminUser}`,
    `password=${s.adminPassword}`,
    'ssh_user=root',
    `repl_user=${s.replicationUser}`,
    `repl_password=${s.replicationPassword}`,
    `manager_workdir=${WORKDIR}`,
    `manager_log=${LOG}`,
    `remote_workdir=${WORKDIR}-node`,
    `master_binlog_dir=${s.binlogDir}`,
    `ping_interval=${s.pingIntervalS}`,
    `secondary_check_script=masterha_secondary_check ${s.secondaryRoutes.map((r) => `-s ${r}`).join(' ')}`,
    '',
    '[server1]',
    `hostname=${s.primary}`,
    `port=${s.port}`,
    'candidate_master=1',
    '',
    '[server2]',
    `hostname=${s.standby}`,
    `port=${s.port}`,
    'candidate_master=1',
    '',
  ].join('\n');
}

const FATAL = "use warnings FATAL => 'all';";
const SUPER_READ_ONLY = 'SELECT \\@\\@global.super_read_only as Value';

/**
 * The upstream workarounds on one module's text (`superReadOnly: false`: the first alone);
 * null when the module needs none of them.
 */
export function patchMhaModule(text: string, o: { superReadOnly: boolean } = { superReadOnly: true }): string | null {
  let patched = text.replace(FATAL, `${FATAL} no warnings qw(redundant missing); # lifeboat bench: mha4mysql-node#35`);
  // MariaDB has no super_read_only: "off" is the truth there (mha4mysql-manager#142).
  if (o.superReadOnly) patched = patched.replace(SUPER_READ_ONLY, 'SELECT 0 as Value');
  return patched === text ? null : patched;
}

export interface MhaHandle {
  /** What MHA's own check printed as Debian ships it, and with the first workaround only: its error lines. */
  printed: { asPackaged: string; withFirstWorkaround: string };
  /** After the fault: waits for the manager to finish its failover; what it printed if it failed. */
  finished(limitMs: number): Promise<{ ok: boolean; log: string }>;
}

/** Sets MHA up on a lab whose replication `lifeboat prepare` made, and starts the manager in `managerHost`. */
export async function startMha(lab: Lab, managerHost: string, s: MhaSettings): Promise<MhaHandle> {
  const nodes = [...new Set([managerHost, ...lab.hosts.filter((h) => h.address === s.primary || h.address === s.standby).map((h) => h.name)])];
  // SSH between every node, as MHA's documentation requires: the lab's operator key and known hosts.
  const opsSsh = await readFile(join(lab.paths.host(managerHost), 'root', '.ssh', 'config'), 'utf8');
  for (const host of nodes) {
    await mkdir(join(lab.paths.host(host), 'root', '.ssh'), { recursive: true, mode: 0o700 });
    await writeFile(join(lab.paths.host(host), 'root', '.ssh', 'config'), opsSsh, { mode: 0o600 });
  }
  await mkdir(join(lab.paths.host(managerHost), 'tmp', WORKDIR.slice('/tmp/'.length)), { recursive: true, mode: 0o700 });
  await writeFile(join(lab.paths.host(managerHost), 'tmp', CONFIG.slice('/tmp/'.length)), mhaConfig(s), { mode: 0o600 });
  const checkRepl = async () => (await lab.exec(managerHost, `masterha_check_repl --conf=${CONFIG} 2>&1`, { timeoutMs: 120_000 })).stdout;

  // As Debian ships it first, then with the first workaround, then with both: each stage's
  // copies are bind-mounted over the installed modules in the nodes' own mount namespaces.
  const asPackaged = await checkRepl();
  let withFirstWorkaround = '';
  for (const [stage, superReadOnly] of [['sprintf', false], ['both', true]] as const) {
    const overlay = join(lab.paths.shared, `bench-mha-overlay-${stage}`);
    await mkdir(overlay, { recursive: true });
    const patched: string[] = [];
    for (const name of (await readdir(MHA_MODULES)).filter((n) => n.endsWith('.pm'))) {
      const text = patchMhaModule(await readFile(join(MHA_MODULES, name), 'utf8'), { superReadOnly });
      if (text === null) continue;
      await writeFile(join(overlay, name), text);
      patched.push(name);
    }
    if (!patched.includes('NodeUtil.pm') || (superReadOnly && !patched.includes('SlaveUtil.pm'))) {
      throw new Error(`MHA bench: the installed MHA modules are not the 0.58 ones this bench knows (patched: ${patched.join(', ') || 'none'})`);
    }
    for (const host of nodes) {
      const binds = patched.map((n) => `mount --bind -o ro ${join(overlay, n)} ${join(MHA_MODULES, n)}`).join(' && ');
      const r = await lab.exec(host, binds, { timeoutMs: 15_000 });
      if (r.code !== 0) throw new Error(`MHA bench: binding the patched modules in ${host} failed: ${r.stderr.trim()}`);
    }
    if (!superReadOnly) withFirstWorkaround = await checkRepl();
  }
  const check = await checkRepl();
  if (!/MySQL Replication Health is OK/.test(check)) throw new Error(`MHA's masterha_check_repl failed:\n${lastLines(check, 12)}`);
  const manager = lab.exec(managerHost, `masterha_manager --conf=${CONFIG} > ${WORKDIR}/manager.out 2>&1`, { timeoutMs: 600_000 });
  const logFile = join(lab.paths.host(managerHost), 'tmp', LOG.slice('/tmp/'.length));
  const readLog = () => readFile(logFile, 'utf8').catch(() => '');
  const deadline = Date.now() + 60_000;
  let exited = false;
  void manager.finally(() => { exited = true; });
  while (!/Ping\(SELECT\) succeeded, waiting until MySQL doesn't respond/.test(await readLog())) {
    if (exited || Date.now() > deadline) throw new Error(`MHA's manager did not start monitoring:\n${lastLines(await readLog(), 12)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    printed: { asPackaged: errorLines(asPackaged), withFirstWorkaround: errorLines(withFirstWorkaround) },
    async finished(limitMs) {
      const done = await Promise.race([manager.then(() => true), new Promise<false>((resolve) => setTimeout(resolve, limitMs, false))]);
      const log = await readLog();
      return { ok: done && /Master failover to .* completed successfully/.test(log), log: lastLines(log, 20) };
    },
  };
}

const lastLines = (text: string, n: number) => text.trim().split('\n').slice(-n).join('\n');

/** The lines of a check's output that say why it failed (its verdict line last). */
export function errorLines(text: string): string {
  return text.split('\n').filter((l) => /\[error\]|execute failed|Health is NOT OK/.test(l) && !/Error happened on monitoring servers/.test(l)).map((l) => l.replace(/^\w{3} \w{3} +\d+ [\d:]+ \d{4} - /, '')).join('\n');
}
