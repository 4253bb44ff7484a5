/**
 * The fleet's cron jobs on a machine (runbook §4.3 step 10: "align the shell jobs and crontab
 * with what the primary had"). lifeboat owns one file, `/etc/cron.d/lifeboat`, and nothing
 * else: users' crontabs and other cron.d files stay untouched. cron ignores files in
 * /etc/cron.d whose names hold a dot, so the `.lifeboat-<stamp>.bak` backups never run.
 */
import type { CronEntry, Fleet, Role } from '../fleet/schema.ts';
import { backupPathCandidates } from '../remote/backup-name.ts';
import { shq, type Remote } from '../remote/remote.ts';
import { ActionError, type Action, type ActionContext, type Change } from './action.ts';
import { readTextOrUndefined } from './provision/remote-shell.ts';
import { unifiedDiff } from './text-diff.ts';

export const CRONTAB_FILE = '/etc/cron.d/lifeboat';

export interface CrontabOptions {
  /** Default `/etc/cron.d/lifeboat`; tests point it into a temp folder. */
  path?: string;
  /** The user field of every line. Default `root`. */
  user?: string;
}

const HEADER = '# Managed by lifeboat: rewritten from the fleet file\'s `crontabs`. Local edits are lost;';

/** The fleet's entries for `roles`, in role order, each line once. */
export function cronEntries(fleet: Fleet, roles: readonly Role[]): Array<CronEntry & { role: Role }> {
  const seen = new Set<string>();
  const out: Array<CronEntry & { role: Role }> = [];
  for (const role of roles) {
    for (const entry of fleet.crontabs[role] ?? []) {
      const key = `${entry.schedule.trim().split(/\s+/).join(' ')} ${entry.command}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ ...entry, role });
    }
  }
  return out;
}

/** The whole file: header, environment, then one line per entry grouped under its role. Pure. */
export function renderCrontab(fleet: Fleet, roles: readonly Role[], user = 'root'): string {
  if (!/^[a-z_][a-z0-9_-]*$/.test(user)) throw new ActionError('precondition', `crontab user ${JSON.stringify(user)} is not a user name`);
  const lines = [
    HEADER,
    `# edit the fleet file instead. Roles: ${roles.length ? roles.join(', ') : '(none)'}.`,
    'SHELL=/bin/sh',
    'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  ];
  let role: Role | undefined;
  for (const entry of cronEntries(fleet, roles)) {
    if (/[\r\n]/.test(entry.command)) throw new ActionError('precondition', `crontab command for role ${entry.role} spans several lines: ${JSON.stringify(entry.command)}`);
    if (entry.role !== role) lines.push(`# role ${(role = entry.role)}`);
    lines.push(`${entry.schedule.trim().split(/\s+/).join(' ')} ${user} ${entry.command}`);
  }
  return lines.join('\n') + '\n';
}

async function checkInstalled(ctx: ActionContext, machine: string, path: string, want: string | undefined): Promise<void> {
  const remote = ctx.remote(machine);
  const text = await readTextOrUndefined(remote, path);
  if (want === undefined) {
    if (text !== undefined) throw new ActionError('verify-failed', `${machine}: ${path} is still there`);
    return;
  }
  if (text !== want) throw new ActionError('verify-failed', `${machine}: ${path} ${text === undefined ? 'does not exist' : 'is not the file lifeboat wrote'}`);
  // cron skips a cron.d file that is group- or world-writable or not owned by root.
  const r = await remote.run(`stat -c '%a %u' -- ${shq(path)}`);
  const [mode = '', uid = ''] = r.stdout.trim().split(' ');
  if (r.code !== 0 || (parseInt(mode, 8) & 0o022) !== 0 || uid !== '0') {
    throw new ActionError('verify-failed', `${machine}: ${path} has mode ${mode} and owner uid ${uid}; cron wants root and no group/world write`);
  }
}

function fileChange(machine: string, path: string, before: string | undefined, after: string | undefined): Change {
  const diff = unifiedDiff(before ?? '', after ?? '', { path });
  if (!diff) return { kind: 'note', machine, text: `${path} already ${after === undefined ? 'absent' : 'holds these entries'}` };
  return { kind: 'file', machine, path, diff };
}

/** Writes the fleet's crontab entries for `roles` to `/etc/cron.d/lifeboat` on `machine`. */
export function installCrontab(machine: string, roles: readonly Role[], options: CrontabOptions = {}): Action {
  const path = options.path ?? CRONTAB_FILE;
  let previous: { text: string | undefined } | undefined;
  const render = (ctx: ActionContext) => renderCrontab(ctx.fleet, roles, options.user ?? 'root');

  return {
    title: `Install the cron jobs of ${roles.join(', ') || 'no role'} on ${machine} (${path})`,
    machines: [machine],
    mutating: true,
    async plan(ctx) {
      const after = render(ctx);
      return [fileChange(machine, path, await readTextOrUndefined(ctx.remote(machine), path), after)];
    },
    async apply(ctx) {
      const after = render(ctx);
      const remote = ctx.remote(machine);
      const before = await readTextOrUndefined(remote, path);
      if (before === after) return;
      previous ??= { text: before };
      try {
        await remote.writeFile(path, after, { backup: true, mode: 0o644 });
      } catch (error) {
        throw new ActionError('apply-failed', `${machine}: cannot write ${path}: ${(error as Error).message}`, { cause: error });
      }
      ctx.log(`${machine}: ${path} holds ${cronEntries(ctx.fleet, roles).length} cron jobs`);
    },
    verify: (ctx) => checkInstalled(ctx, machine, path, render(ctx)),
    async undo(ctx) {
      if (!previous) throw new ActionError('undo-failed', `${machine}: nothing recorded to undo`);
      const remote = ctx.remote(machine);
      if (previous.text === undefined) await removeWithBackup(remote, path);
      else await remote.writeFile(path, previous.text, { backup: true });
      previous = undefined;
    },
  };
}

/** Moves the file aside as a dated backup: cron stops running it, and the way back is one `mv`. */
async function removeWithBackup(remote: Remote, path: string): Promise<void> {
  const candidates = backupPathCandidates(path, new Date()).map(shq).join(' ');
  // The first free backup name: two removals in one second keep both backups.
  const r = await remote.run(`[ -e ${shq(path)} ] || exit 0; for b in ${candidates}; do [ -e "$b" ] || exec mv -- ${shq(path)} "$b"; done; exit 1`);
  if (r.code !== 0) throw new ActionError('apply-failed', `${remote.machine}: cannot move ${path} aside: ${r.stderr.trim()}`);
}

/** Takes lifeboat's cron jobs off `machine` (a demoted or fenced machine must not run them). */
export function removeCrontab(machine: string, options: CrontabOptions = {}): Action {
  const path = options.path ?? CRONTAB_FILE;
  let previous: string | undefined;
  return {
    title: `Remove lifeboat's cron jobs from ${machine} (${path})`,
    machines: [machine],
    mutating: true,
    async plan(ctx) {
      return [fileChange(machine, path, await readTextOrUndefined(ctx.remote(machine), path), undefined)];
    },
    async apply(ctx) {
      const remote = ctx.remote(machine);
      const before = await readTextOrUndefined(remote, path);
      if (before === undefined) return;
      previous ??= before;
      await removeWithBackup(remote, path);
      ctx.log(`${machine}: ${path} moved aside`);
    },
    verify: (ctx) => checkInstalled(ctx, machine, path, undefined),
    async undo(ctx) {
      if (previous === undefined) throw new ActionError('undo-failed', `${machine}: nothing recorded to undo`);
      await ctx.remote(machine).writeFile(path, previous, { backup: true, mode: 0o644 });
      previous = undefined;
    },
  };
}
