/**
 * Upload files follow the primary: a loop on the machine that runs go-upload pushes its data
 * folders to the standby with rsync over SSH every few seconds. The SSH hop uses a key pair
 * of its own made on the source (the private half never leaves it); on the target that key
 * may only run rrsync, write-only, into the synced folder, from the source's address; the
 * target's host key is pinned from the target itself, read over lifeboat's verified SSH.
 * Files deleted on the source stay on the target: a wiped disk must not wipe the copy.
 */
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { ActionError, type Action, type ActionContext, type Change } from '../actions/action.ts';
import { check, step, type ActionStep } from '../recovery/step.ts';
import { runChecked, shq, type Remote } from '../remote/remote.ts';
import { fileChange, fileDelta, readIfExists, verifyDesired, writeDesired, type DesiredFile } from '../actions/desired-file.ts';
import type { PrepareOptions } from './prepare-options.ts';
import { settle } from './settle.ts';
import { keepRunning } from './sync-keeper.ts';
import { postCondition } from './post-condition.ts';
import { sshPortOf, sshUserOf, type UploadSync } from './topology.ts';

export interface SyncPaths {
  dir: string;
  key: string;
  knownHosts: string;
  script: string;
  lastOk: string;
  lastError: string;
  program: string;
}

export function syncPaths(sync: UploadSync, options: PrepareOptions): SyncPaths {
  const dir = `${options.stateDir}/sync`;
  const id = `${sync.service}-to-${sync.target.name}`;
  return {
    dir, key: `${dir}/id_ed25519`, knownHosts: `${dir}/known_hosts-${sync.target.name}`, script: `${dir}/${id}.sh`,
    lastOk: `${dir}/${id}.last-ok`, lastError: `${dir}/${id}.last-error`, program: `lifeboat-sync-${id}`,
  };
}

/** The deepest folder holding every synced folder: what the target's rrsync is confined to. */
export function commonRoot(dirs: readonly string[]): string {
  const split = dirs.map((d) => posix.normalize(d).split('/').filter(Boolean));
  const first = split[0] ?? [];
  let n = 0;
  while (n < first.length && split.every((parts) => parts[n] === first[n])) n++;
  return '/' + first.slice(0, n).join('/');
}

export function syncScript(sync: UploadSync, options: PrepareOptions, fleetPort: number, user: string): string {
  const p = syncPaths(sync, options);
  const targetRoot = options.uploadTargetPath(commonRoot(sync.dataDirs));
  // One SSH connection kept open between passes (ControlMaster): a pass then costs a channel,
  // not a handshake, so a loaded machine still ships a file within about one interval.
  const ssh = `ssh -i ${p.key} -o IdentitiesOnly=yes -o UserKnownHostsFile=${p.knownHosts} -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=5 -o ServerAliveInterval=5 -o ControlMaster=auto -o ControlPath=${p.dir}/cm-%C -o ControlPersist=60 -p ${fleetPort}`;
  const copies = sync.dataDirs.map((dir) => {
    const relative = posix.relative(commonRoot(sync.dataDirs), dir) || '.';
    return `  mkdir -p ${shq(dir)} && rsync -a --partial --timeout=30 -e "$ssh" ${shq(`${dir}/`)} ${shq(`${user}@${sync.target.address}:./${relative === '.' ? '' : `${relative}/`}`)} 2>>"$err.tmp" || ok=0`;
  });
  return [
    '#!/bin/sh',
    `# Written by \`lifeboat prepare\`: ${sync.service}'s files on ${sync.source.name} follow to ${sync.target.name}`,
    `# (${targetRoot} there) every ${options.uploadSyncIntervalS} s. No --delete: a file removed here stays there.`,
    'set -u',
    `ssh=${shq(ssh)}`,
    `err=${shq(p.lastError)}`,
    'while :; do',
    '  ok=1; : > "$err.tmp"',
    ...copies,
    `  if [ "$ok" = 1 ]; then date +%s > ${shq(`${p.lastOk}.tmp`)} && mv ${shq(`${p.lastOk}.tmp`)} ${shq(p.lastOk)}; fi`,
    '  mv "$err.tmp" "$err"',
    `  sleep ${options.uploadSyncIntervalS}`,
    'done',
    '',
  ].join('\n');
}

/** The authorized_keys options that confine the sync key (see `man rrsync`). */
export function authorizedLine(sync: UploadSync, publicKey: string, options: PrepareOptions): string {
  const [type, blob] = publicKey.trim().split(/\s+/);
  const root = options.uploadTargetPath(commonRoot(sync.dataDirs));
  // The forced command is run by the target's shell: its folder quoted like every other
  // command argument (the schema already keeps quotes and `,` out of paths).
  return `restrict,from="${sync.source.address}",command="/usr/bin/rrsync -wo -no-del -munge ${shq(root)}" ${type} ${blob} ${marker(sync)}`;
}

function marker(sync: UploadSync): string {
  return `lifeboat-sync:${sync.source.name}:${sync.service}`;
}

function withAuthorized(current: string | undefined, sync: UploadSync, line: string): string {
  const kept = (current ?? '').split('\n').filter((l) => l !== '' && !l.endsWith(` ${marker(sync)}`));
  return [...kept, line, ''].join('\n');
}

/** The path of the SSH user's authorized_keys on the target ('~' is that user's home). */
async function authorizedKeysPath(ctx: ActionContext, sync: UploadSync, options: PrepareOptions): Promise<string> {
  const path = options.authorizedKeys(sync.target.name);
  if (!path.startsWith('~/')) return path;
  const home = (await runChecked(ctx.remote(sync.target.name), 'printf %s "$HOME"')).stdout.trim();
  return `${home}${path.slice(1)}`;
}

async function publicKey(ctx: ActionContext, sync: UploadSync, p: SyncPaths): Promise<string | undefined> {
  return readIfExists(ctx.remote(sync.source.name), `${p.key}.pub`);
}

/** rrsync is confined to the folder and refuses to start when it does not exist. */
function targetFolders(sync: UploadSync, options: PrepareOptions): Action {
  const dirs = sync.dataDirs.map((d) => options.uploadTargetPath(d));
  const missing = async (ctx: ActionContext) => {
    const r = await ctx.remote(sync.target.name).run(dirs.map((d) => `[ -d ${shq(d)} ] || echo ${shq(d)}`).join('; '));
    return r.stdout.split('\n').filter(Boolean);
  };
  const command = (list: string[]) => `mkdir -p ${list.map(shq).join(' ')}`;
  return {
    title: `Folders for ${sync.service}'s files on ${sync.target.name}`,
    machines: [sync.target.name],
    mutating: true,
    async plan(ctx) {
      const list = await missing(ctx);
      return list.length ? [{ kind: 'command', machine: sync.target.name, command: command(list) }] : [];
    },
    async apply(ctx) {
      const list = await missing(ctx);
      if (list.length) await runChecked(ctx.remote(sync.target.name), command(list));
    },
    async verify(ctx) {
      const list = await missing(ctx);
      if (list.length) throw new ActionError('verify-failed', `${sync.target.name}: ${list.join(', ')} missing`);
    },
  };
}

function syncKey(sync: UploadSync, p: SyncPaths): Action {
  const command = `mkdir -p -m 700 ${shq(p.dir)} && ssh-keygen -q -t ed25519 -N '' -C ${shq(`lifeboat-sync@${sync.source.name}`)} -f ${shq(p.key)}`;
  return {
    title: `Key pair for upload sync on ${sync.source.name}`,
    machines: [sync.source.name],
    mutating: true,
    async plan(ctx) {
      return (await publicKey(ctx, sync, p)) ? [] : [{ kind: 'command', machine: sync.source.name, command }];
    },
    async apply(ctx) {
      if (await publicKey(ctx, sync, p)) return;
      // A half-written pair from a crash would make ssh-keygen ask before overwriting.
      await runChecked(ctx.remote(sync.source.name), `rm -f ${shq(p.key)} ${shq(`${p.key}.pub`)} && ${command}`);
    },
    async verify(ctx) {
      if (!(await publicKey(ctx, sync, p))) throw new ActionError('verify-failed', `${sync.source.name}: ${p.key}.pub is missing`);
    },
  };
}

function authorizeKey(sync: UploadSync, p: SyncPaths, options: PrepareOptions): Action {
  async function file(ctx: ActionContext): Promise<DesiredFile> {
    const key = await publicKey(ctx, sync, p);
    const path = await authorizedKeysPath(ctx, sync, options);
    return {
      machine: sync.target.name, path, mode: 0o600,
      content: (current) => withAuthorized(current, sync, authorizedLine(sync, key ?? `ssh-ed25519 <public-key-made-on-${sync.source.name}>`, options)),
    };
  }
  return {
    title: `Let ${sync.source.name}'s sync key write ${sync.service}'s files on ${sync.target.name}, and nothing else`,
    machines: [sync.target.name],
    mutating: true,
    async plan(ctx) {
      const f = await file(ctx);
      const { before, after } = await fileDelta(ctx, f);
      return fileChange(f, before, after);
    },
    async apply(ctx) {
      const f = await file(ctx);
      await runChecked(ctx.remote(sync.target.name), `mkdir -p -m 700 ${shq(posix.dirname(f.path))}`);
      await writeDesired(ctx, f);
    },
    verify: async (ctx) => verifyDesired(ctx, await file(ctx)),
  };
}

function pinHostKey(sync: UploadSync, p: SyncPaths, options: PrepareOptions): Action {
  async function file(ctx: ActionContext): Promise<DesiredFile> {
    // Read from the target over lifeboat's own SSH, whose host key is verified: no first-use trust.
    const hostKey = await readIfExists(ctx.remote(sync.target.name), options.targetHostKey(sync.target.name));
    if (!hostKey) throw new ActionError('precondition', `${sync.target.name}: no host key at ${options.targetHostKey(sync.target.name)}`);
    const [type, blob] = hostKey.trim().split(/\s+/);
    const port = sshPortOf(ctx.fleet, sync.target);
    const host = port === 22 ? sync.target.address : `[${sync.target.address}]:${port}`;
    return { machine: sync.source.name, path: p.knownHosts, mode: 0o600, content: `${host} ${type} ${blob}\n` };
  }
  return {
    title: `Pin ${sync.target.name}'s SSH host key on ${sync.source.name}`,
    machines: [sync.source.name, sync.target.name],
    mutating: true,
    async plan(ctx) {
      const f = await file(ctx);
      const { before, after } = await fileDelta(ctx, f);
      return fileChange(f, before, after);
    },
    apply: async (ctx) => { await writeDesired(ctx, await file(ctx)); },
    verify: async (ctx) => verifyDesired(ctx, await file(ctx)),
  };
}

/** The sync loop's own record on the source: seconds since its last complete pass (none before the first), last error. */
export async function readSyncRecord(remote: Remote, p: SyncPaths): Promise<{ lagS?: number; lastError: string }> {
  const r = await remote.run(`date +%s; cat ${shq(p.lastOk)} 2>/dev/null || echo; cat ${shq(p.lastError)} 2>/dev/null`, { timeoutMs: 10_000 });
  const [now, last, ...error] = r.stdout.split('\n');
  const lastError = error.join(' ').trim();
  return last && /^\d+$/.test(last.trim()) ? { lagS: Math.max(0, Number(now) - Number(last)), lastError } : { lastError };
}

export async function uploadSyncLag(ctx: ActionContext, sync: UploadSync, options: PrepareOptions): Promise<{ lagS?: number; lastError: string }> {
  return readSyncRecord(ctx.remote(sync.source.name), syncPaths(sync, options));
}

/**
 * Every upload sync of the fleet: their checks, then ONE step holding each sync's actions in
 * turn (folders, key, authorisation, host key, script, loop, a complete pass), applied in that
 * order and then verified. One step, so that it can run beside prepare's other independent
 * parts (a group runs steps, not rows of steps); the syncs one after the other inside it,
 * because those of one machine share its sync key and those to one target edit its
 * authorized_keys.
 */
const syncName = (sync: UploadSync) => `${sync.service} ${sync.source.name} → ${sync.target.name}`;

export function uploadSyncSteps(syncs: readonly UploadSync[], options: PrepareOptions): ActionStep[] {
  if (syncs.length === 0) return [];
  const title = syncs.length === 1
    ? `Keep ${syncs[0]!.service}'s files following ${syncs[0]!.source.name} → ${syncs[0]!.target.name}`
    : `Keep the upload files following: ${syncs.map(syncName).join('; ')}`;
  return [...syncs.map(toolsThere), step(title, syncs.flatMap((sync) => syncActions(sync, options)))];
}

function toolsThere(sync: UploadSync): ActionStep {
  return check(`rsync and ssh on ${sync.source.name}, rsync and rrsync on ${sync.target.name}`, {
    machines: [sync.source.name, sync.target.name],
    async verify(ctx) {
      const [s, t] = await Promise.all([
        ctx.remote(sync.source.name).run('command -v rsync && command -v ssh && command -v ssh-keygen'),
        ctx.remote(sync.target.name).run('command -v rsync && test -x /usr/bin/rrsync'),
      ]);
      if (s.code !== 0) throw new ActionError('precondition', `${sync.source.name}: rsync, ssh or ssh-keygen is missing (scripts/prerequisites.sh installs them)`);
      if (t.code !== 0) throw new ActionError('precondition', `${sync.target.name}: rsync or /usr/bin/rrsync is missing (Debian's rsync package ships both)`);
    },
  });
}

function syncActions(sync: UploadSync, options: PrepareOptions): Action[] {
  const p = syncPaths(sync, options);
  const name = syncName(sync);
  return [
    targetFolders(sync, options),
    syncKey(sync, p),
    authorizeKey(sync, p, options),
    pinHostKey(sync, p, options),
    scriptAction(sync, p, options),
    keepRunning(`Keep the sync of ${name} running`, sync.source.name, p.program, `/bin/sh ${p.script}`, sync.spec.driver, {
      keeper: options.keeper, settleMs: options.settleMs,
      // In the program's own file, so a changed script changes it and the manager restarts the loop.
      fingerprint: (ctx) => createHash('sha256').update(scriptFor(ctx, sync, options)).digest('hex').slice(0, 16),
    }),
    postCondition(`${name}: a complete pass within ${options.uploadSyncIntervalS * 3} s`, {
      machines: [sync.source.name],
      describe: `${p.lastOk} on ${sync.source.name} is at most ${options.uploadSyncIntervalS * 3} s old`,
      async verify(ctx) {
        let last: Awaited<ReturnType<typeof uploadSyncLag>> | undefined;
        const fresh = await settle(async () => {
          last = await uploadSyncLag(ctx, sync, options);
          return last.lagS !== undefined && last.lagS <= options.uploadSyncIntervalS * 3;
        }, options.settleMs);
        if (!fresh) throw new ActionError('verify-failed', `${name}: no complete pass lately${last?.lastError ? `: ${last.lastError}` : ''}`);
      },
    }),
  ];
}

function scriptFor(ctx: ActionContext, sync: UploadSync, options: PrepareOptions): string {
  return syncScript(sync, options, sshPortOf(ctx.fleet, sync.target), sshUserOf(ctx.fleet, sync.target));
}

function scriptAction(sync: UploadSync, p: SyncPaths, options: PrepareOptions): Action {
  const file = (ctx: ActionContext): DesiredFile => ({ machine: sync.source.name, path: p.script, mode: 0o755, content: scriptFor(ctx, sync, options) });
  return {
    title: `Sync loop script for ${sync.service} ${sync.source.name} → ${sync.target.name}`,
    machines: [sync.source.name],
    mutating: true,
    async plan(ctx) {
      const f = file(ctx);
      const { before, after } = await fileDelta(ctx, f);
      return fileChange(f, before, after);
    },
    apply: async (ctx) => { await writeDesired(ctx, file(ctx)); },
    verify: (ctx) => verifyDesired(ctx, file(ctx)),
  };
}

const SYNC_PROGRAM_PREFIX = 'lifeboat-sync-';

/**
 * Stops and retires every upload-sync loop on `machine` (a returned old primary's loops would
 * push its stale files onto the machine that took over): each program's file is renamed out
 * of the manager's reach (`.retired`, kept for a person), so a reboot does not start it again.
 * `prepare` writes the loops the fleet needs now, on the machines that need them.
 */
export function retireSyncLoops(machine: string, options: Pick<PrepareOptions, 'keeper'>): Action {
  const k = options.keeper;
  const supervisor = `${k.supervisorConfDir}/${SYNC_PROGRAM_PREFIX}*.conf`;
  const systemd = `${k.systemdDir}/${SYNC_PROGRAM_PREFIX}*.service`;
  const script = [
    'set -eu',
    `for f in ${supervisor}; do [ -e "$f" ] || continue; n=$(basename "$f" .conf); ${k.supervisorctl} stop "$n" >/dev/null 2>&1 || true; mv -f "$f" "$f.retired"; retired=1; done`,
    `[ -z "\${retired:-}" ] || { ${k.supervisorctl} reread >/dev/null && ${k.supervisorctl} update >/dev/null; }`,
    `for f in ${systemd}; do [ -e "$f" ] || continue; n=$(basename "$f"); systemctl disable --now "$n" >/dev/null 2>&1 || true; mv -f "$f" "$f.retired"; reload=1; done`,
    '[ -z "${reload:-}" ] || systemctl daemon-reload',
  ].join('\n');
  const running = `{ ls ${supervisor} ${systemd} 2>/dev/null || true; if command -v ${k.supervisorctl} >/dev/null 2>&1; then ${k.supervisorctl} status 2>/dev/null | awk '$1 ~ /^${SYNC_PROGRAM_PREFIX}/ && $2 == "RUNNING" {print $1}' || true; fi; }`;
  return {
    title: `Retire the upload-sync loops on ${machine}`,
    machines: [machine],
    mutating: true,
    async plan(ctx) {
      const found = (await runChecked(ctx.remote(machine), running, { timeoutMs: 15_000 })).stdout.trim();
      return found ? [{ kind: 'command', machine, command: `stop and rename ${found.split('\n').join(', ')} to *.retired` }] : [];
    },
    async apply(ctx) {
      await runChecked(ctx.remote(machine), `sh -c ${shq(script)}`, { timeoutMs: 60_000 });
    },
    async verify(ctx) {
      const left = (await runChecked(ctx.remote(machine), running, { timeoutMs: 15_000 })).stdout.trim();
      if (left) throw new ActionError('verify-failed', `${machine}: upload-sync loops still there: ${left.split('\n').join(', ')}`);
    },
  };
}
