/**
 * The physical seed of a replica that holds no data yet (a spare being built into the
 * standby): `mariadb-backup --backup --stream=xbstream` on the running primary, streamed
 * straight into the replica (`remote/stream.ts`: an SSH pipe with a key made for it, sha256
 * on both ends), unpacked and prepared there while the replica's server still runs, then
 * swapped in with the server stopped. The primary keeps serving throughout (mariadb-backup
 * takes InnoDB's pages hot and locks only for the short end of the copy); the copy's GTID
 * position, written by mariadb-backup beside the data, is where the replica starts.
 *
 * Against the logical seed (dump | mariadb) it costs no row-by-row load on the replica: for
 * a database of a few GB that is most of the time. It replaces the whole data folder (every
 * schema, the accounts), which is why it is only taken for a server with no data of its own.
 */
import type { ActionContext } from '../actions/action.ts';
import { ActionError } from '../actions/action.ts';
import { directRoute } from '../actions/provision/relay.ts';
import { clientArgs, DEBIAN_DATADIR, DEBIAN_SOCKET, detectControl, type MariadbLocal } from '../backup/mariadb-local.ts';
import { physicalPaths, swapBackPhysical, swapInPhysical } from '../backup/restore-steps.ts';
import type { Machine } from '../fleet/schema.ts';
import { shq } from '../remote/remote.ts';
import { bash, privateWorkDir, runBash, workDirTemplate } from '../remote/shell.ts';
import { streamFile } from '../remote/stream.ts';

const WORK_PARENT = '/var/tmp';
const GTID_LIST = /^(\d+-\d+-\d+(,\d+-\d+-\d+)*)?$/;
/** mariadb-backup names its record of the copy's binlog position so from 10.8 on; older ones `xtrabackup_`. */
const BINLOG_INFO = ['mariadb_backup_binlog_info', 'xtrabackup_binlog_info'];

/** `mariadb-backup`'s position line: `<binlog file> <offset> <GTID list>` (the GTID list may be absent). */
export function gtidFromBinlogInfo(text: string): string {
  const fields = text.trim().split(/\s+/);
  const gtid = fields[2] ?? '';
  if (fields.length < 2 || !GTID_LIST.test(gtid)) throw new ActionError('apply-failed', `mariadb-backup's binlog position record is not one: ${JSON.stringify(text.slice(0, 200))}`);
  return gtid;
}

/** The commands the seed runs, for `--plan` (the work folders are made when it runs). */
export function physicalSeedCommands(primary: Machine, replica: Machine): Array<{ machine: string; command: string }> {
  const local = localOf(undefined);
  const landing = workDirTemplate(WORK_PARENT, 'lifeboat-seed');
  const paths = physicalPaths(local, '<time>');
  return [
    { machine: primary.name, command: `${backupCommand(local, workDirTemplate(WORK_PARENT, 'lifeboat-seed'))}  → streamed over SSH to ${replica.name}:${landing}/seed.xb` },
    { machine: replica.name, command: bash(unpackCommand(`${landing}/seed.xb`, paths.incoming, landing)) },
    { machine: replica.name, command: 'stop MariaDB; move the data folder aside and the copy in; start MariaDB; remove the old data folder' },
  ];
}

function localOf(control: MariadbLocal['control'] | undefined): MariadbLocal {
  return { socket: DEBIAN_SOCKET, datadir: DEBIAN_DATADIR, osUser: 'mysql', control: control ?? { kind: 'systemd', stopCommand: () => 'systemctl stop mariadb', startCommand: () => 'systemctl start mariadb' } };
}

function backupCommand(local: MariadbLocal, work: string): string {
  return `mariadb-backup --backup --stream=xbstream ${clientArgs(local)} --target-dir=${shq(work)}`;
}

function unpackCommand(file: string, incoming: string, landing: string): string {
  const log = `${landing}/prepare.log`;
  return [
    `rm -rf -- ${shq(incoming)}`,
    `install -d -m 0750 -- ${shq(incoming)}`,
    `mbstream -x -C ${shq(incoming)} < ${shq(file)}`,
    `rm -f -- ${shq(file)}`,
    `mariadb-backup --prepare --target-dir=${shq(incoming)} > ${shq(log)} 2>&1 || { tail -n 20 ${shq(log)} >&2; exit 1; }`,
    `chown -R mysql:mysql -- ${shq(incoming)}`,
  ].join('\n');
}

/** True when the primary can stream to the replica (the fleet allows machine-to-machine copies). */
export function canSeedPhysically(ctx: ActionContext, primary: Machine, replica: Machine): boolean {
  return directRoute(ctx, primary.name, replica.name) !== undefined;
}

/**
 * Seeds `replica` with a physical copy of the running `primary`; returns the copy's GTID
 * position. The replica's server answers again afterwards (replication not configured yet).
 */
export async function seedPhysically(ctx: ActionContext, primary: Machine, replica: Machine): Promise<string> {
  const route = directRoute(ctx, primary.name, replica.name);
  if (!route) throw new ActionError('precondition', `${primary.name} cannot stream to ${replica.name} (ssh.machineToMachine is false)`);
  const source = ctx.remote(primary.name);
  const target = ctx.remote(replica.name);
  const local = localOf(await detectControl(target));
  const started = performance.now();
  const [work, landing] = await Promise.all([privateWorkDir(source, WORK_PARENT, 'lifeboat-seed'), privateWorkDir(target, WORK_PARENT, 'lifeboat-seed')]);
  const paths = physicalPaths(local, new Date().toISOString().replace(/[-:.]/g, ''));
  let phase: 'streaming' | 'stopped' | 'swapping' | 'swapped' | 'started' = 'streaming';
  try {
    const streamed = await streamFile(source, { command: backupCommand(local, work), what: `a physical copy of ${primary.name}'s MariaDB` }, target, `${landing}/seed.xb`, route, { log: (m) => ctx.log(m) });
    ctx.log(`${primary.name} → ${replica.name}: physical copy streamed (${streamed.bytes} bytes in ${(streamed.ms / 1000).toFixed(1)} s, sha256 ${streamed.sha256.slice(0, 16)}… on both ends)`);
    await runBash(target, unpackCommand(`${landing}/seed.xb`, paths.incoming, landing), { timeoutMs: 60 * 60_000 });
    const info = await target.run(BINLOG_INFO.map((f) => `cat -- ${shq(`${paths.incoming}/${f}`)} 2>/dev/null`).join(' || '));
    if (info.code !== 0) throw new ActionError('apply-failed', `${replica.name}: the copy from ${primary.name} has no binlog position record (${BINLOG_INFO.join(' / ')})`);
    const gtid = gtidFromBinlogInfo(info.stdout);
    phase = 'stopped';
    await runBash(target, local.control.stopCommand(), { timeoutMs: 180_000 });
    phase = 'swapping';
    await runBash(target, swapInPhysical(local, paths), { timeoutMs: 600_000 });
    phase = 'swapped';
    await runBash(target, local.control.startCommand(), { timeoutMs: 180_000 });
    phase = 'started';
    // Nothing of the old folder is worth keeping: the seed is only taken for a server without data.
    await runBash(target, `rm -rf -- ${shq(paths.aside)}`, { timeoutMs: 600_000 });
    ctx.log(`${replica.name}: seeded physically from ${primary.name} at GTID ${gtid || '(empty)'} in ${Math.round(performance.now() - started)} ms`);
    return gtid;
  } catch (error) {
    // A server left stopped is worse than a seed that failed: it goes back to its own data
    // (the copy half moved in, or in and not starting) and is started again.
    if (phase === 'swapping' || phase === 'swapped') {
      await runBash(target, local.control.stopCommand(), { timeoutMs: 180_000 }).catch(() => undefined);
      await runBash(target, swapBackPhysical(local, paths), { timeoutMs: 600_000 }).catch(() => undefined);
    }
    if (phase !== 'streaming' && phase !== 'started') await runBash(target, local.control.startCommand(), { timeoutMs: 180_000 }).catch(() => undefined);
    throw error;
  } finally {
    await Promise.allSettled([source.run(`rm -rf -- ${shq(work)}`), target.run(`rm -rf -- ${shq(landing)} ${shq(paths.incoming)}`)]);
  }
}
