/**
 * Copies folders between machines (runbook §4.2 step 5.1: "copy the services under
 * /wwwroot/ from the primary"; §4.2 step 5.4: the /shell scripts) and unpacks installation
 * archives from a backup store (§4.4: build a new machine from scratch). The packed folder
 * goes straight from machine to machine (`provision/relay.ts`), and the copy is checked
 * afterwards file by file: same list, same sizes, same sha256 on both sides.
 */
import { shq } from '../remote/remote.ts';
import { ActionError, type Action, type ActionContext, type Change } from './action.ts';
import { rethrowAs } from './provision/action-errors.ts';
import { directRoute, moveFile } from './provision/relay.ts';
import { bash, existsOn, runBash } from './provision/remote-shell.ts';
import { packScript, tempFileOn, unpackScript } from './provision/tar-scripts.ts';
import { compareManifests, humanBytes, pruneExpression, readManifest, summarize } from './provision/tree-manifest.ts';

export interface CopyTreeOptions {
  /**
   * Left out of the copy and of the check. A pattern without `/` is a name (shell glob)
   * matched at any depth (`*.log`); one with `/` is a path from the folder's top (`go/go-api/logs`).
   */
  exclude?: readonly string[];
  /** `user` or `user:group` given to everything copied, e.g. `www-data:www-data`. */
  chown?: string;
  /** Where the copy goes on `to`. Default the same path as on `from`. */
  targetPath?: string;
  /** Where the archive waits on each machine. Default `/tmp`. */
  remoteTempDir?: string;
  /** Where the archive waits on the operator's machine. Default the OS temp folder. */
  localTempDir?: string;
  /** Per command (pack, unpack, listing). Default 30 min: /wwwroot may hold uploads. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 30 * 60_000;


/**
 * Copies folder `path` from machine `from` to the same path (or `targetPath`) on machine `to`. Files already
 * at the destination are overwritten, others are left alone; verify then insists that both
 * sides list exactly the same entries, so leftovers on the destination are reported.
 */
export function copyTree(from: string, to: string, path: string, options: CopyTreeOptions = {}): Action {
  const exclude = options.exclude ?? [];
  const remoteTemp = options.remoteTempDir ?? '/tmp';
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const targetPath = options.targetPath ?? path;
  pruneExpression(exclude); // reject bad patterns when the step is built, not half-way through a run

  return {
    title: `Copy ${path} from ${from} to ${to}${targetPath === path ? '' : `:${targetPath}`}${exclude.length ? ` (without ${exclude.join(', ')})` : ''}`,
    machines: [from, to],
    mutating: true,
    async plan(ctx) {
      const source = ctx.remote(from);
      if (!(await existsOn(source, path))) throw new ActionError('precondition', `${from}: ${path} does not exist`);
      const summary = summarize(await readManifest(source, path, exclude, timeoutMs));
      const archive = `${remoteTemp}/lifeboat-relay-XXXXXXXX.tar.gz`;
      const changes: Change[] = [
        { kind: 'note', machine: from, text: `${path}: ${summary.files} files, ${humanBytes(summary.bytes)}, tree sha256 ${summary.digest.slice(0, 16)}` },
        { kind: 'command', machine: from, command: bash(packScript(path, exclude, remoteTemp)) },
        {
          kind: 'note',
          text: directRoute(ctx, from, to)
            ? `stream the archive from ${from} to ${to} as ${archive} over SSH, with a key made for this copy alone (relayed through the operator if ${from} cannot reach ${to})`
            : `relay the archive through the operator (download from ${from}, upload to ${to} as ${archive}): ssh.machineToMachine is false for ${to}`,
        },
        { kind: 'command', machine: to, command: bash(unpackScript(archive, targetPath, { chown: options.chown, tarFlag: '-z' })) },
        { kind: 'command', machine: from, command: 'rm -f -- <the archive>' },
      ];
      return changes;
    },
    async apply(ctx) {
      const source = ctx.remote(from);
      const target = ctx.remote(to);
      let packed: string | undefined;
      let landed: string | undefined;
      try {
        packed = (await runBash(source, packScript(path, exclude, remoteTemp), { timeoutMs })).stdout.trim();
        landed = await tempFileOn(target, remoteTemp, '.tar.gz');
        await moveFile(ctx, from, packed, to, landed, { localTempDir: options.localTempDir, timeoutMs });
        await runBash(target, unpackScript(landed, targetPath, { chown: options.chown, tarFlag: '-z' }), { timeoutMs });
        landed = undefined;
      } catch (error) {
        rethrowAs(error, 'apply-failed', `copy ${path} from ${from} to ${to}`);
      } finally {
        // Best-effort removal of temporary copies; the copy's own outcome was decided above.
        if (packed) await source.run(`rm -f -- ${shq(packed)}`).catch(() => undefined);
        if (landed) await target.run(`rm -f -- ${shq(landed)}`).catch(() => undefined);
      }
      ctx.log(`${to}: ${targetPath} copied from ${from}:${path}`);
    },
    async verify(ctx) {
      await verifySameTree(ctx, { machine: from, path }, { machine: to, path: targetPath }, exclude, timeoutMs);
    },
  };
}

export interface TreeLocation {
  machine: string;
  path: string;
}

/** Throws unless both folders list the same entries, sizes and sha256 sums. */
export async function verifySameTree(ctx: ActionContext, from: TreeLocation, to: TreeLocation, exclude: readonly string[], timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
  const a = `${from.machine}:${from.path}`;
  const b = `${to.machine}:${to.path}`;
  let source;
  let target;
  try {
    source = await readManifest(ctx.remote(from.machine), from.path, exclude, timeoutMs);
    target = await readManifest(ctx.remote(to.machine), to.path, exclude, timeoutMs);
  } catch (error) {
    rethrowAs(error, 'verify-failed', `cannot list ${a} and ${b}`);
  }
  const diff = compareManifests(source, target);
  if (diff.count > 0) throw new ActionError('verify-failed', `${b} differs from ${a} in ${diff.count} entries: ${diff.lines.join('; ')}`);
  const summary = summarize(source);
  ctx.log(`${b} matches ${a} (${summary.files} files, ${humanBytes(summary.bytes)}, tree sha256 ${summary.digest.slice(0, 16)})`);
}

export { extractArchive, archiveTarFlag, type ExtractArchiveOptions } from './provision/extract-archive.ts';
