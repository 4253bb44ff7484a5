/**
 * Copies folders between machines (runbook §4.2 step 5.1: "copy the services under
 * /wwwroot/ from the primary"; §4.2 step 5.4: the /shell scripts) and unpacks installation
 * archives from a backup store (§4.4: build a new machine from scratch). Everything is
 * relayed through the operator, because the machines may not trust each other over SSH,
 * and checked afterwards file by file: same list, same sizes, same sha256 on both sides.
 */
import { RemoteError, shq, type Remote } from '../remote/remote.ts';
import { ActionError, type Action, type ActionContext, type Change } from './action.ts';
import { relayFile } from './provision/relay.ts';
import { bash, existsOn, readTextOrUndefined, runBash } from './provision/shell.ts';
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

function wrap(error: unknown, code: ActionError['code'], what: string): never {
  if (error instanceof ActionError) throw error;
  const detail = error instanceof Error ? error.message : String(error);
  throw new ActionError(code, `${what}: ${detail}`, { cause: error });
}

/** Bash that packs `path` (minus exclusions) into a fresh temp archive and prints its path. */
export function packScript(path: string, exclude: readonly string[], tempDir: string): string {
  return [
    `t=$(mktemp ${shq(`${tempDir}/lifeboat-tree-XXXXXXXX.tar.gz`)})`,
    `cd -- ${shq(path)}`,
    // Sorted, explicit member list: the archive holds exactly what the manifest lists.
    `find . ${pruneExpression(exclude)}-print0 | LC_ALL=C sort -z | tar --null --no-recursion -T - -cf - | gzip -1 > "$t"`,
    `echo "$t"`,
  ].join('\n');
}

/** Bash that unpacks `archive` into `path` (created if needed), optionally re-owns it, and removes the archive. */
export function unpackScript(archive: string, path: string, options: { chown?: string; tarFlag: string }): string {
  return [
    `mkdir -p -- ${shq(path)}`,
    `tar -C ${shq(path)} ${options.tarFlag} -xf ${shq(archive)}`,
    ...(options.chown ? [`chown -R -- ${shq(options.chown)} ${shq(path)}`] : []),
    `rm -f -- ${shq(archive)}`,
  ].join('\n');
}

async function tempFileOn(remote: Remote, tempDir: string, suffix: string): Promise<string> {
  const r = await runBash(remote, `mktemp ${shq(`${tempDir}/lifeboat-relay-XXXXXXXX${suffix}`)}`);
  return r.stdout.trim();
}

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
        { kind: 'note', text: `relay the archive through the operator (download from ${from}, upload to ${to} as ${archive}); Remote has no streaming primitive` },
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
        await relayFile(source, packed, target, landed, options.localTempDir);
        await runBash(target, unpackScript(landed, targetPath, { chown: options.chown, tarFlag: '-z' }), { timeoutMs });
        landed = undefined;
      } catch (error) {
        wrap(error, 'apply-failed', `copy ${path} from ${from} to ${to}`);
      } finally {
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
    wrap(error, 'verify-failed', `cannot list ${a} and ${b}`);
  }
  const diff = compareManifests(source, target);
  if (diff.count > 0) throw new ActionError('verify-failed', `${b} differs from ${a} in ${diff.count} entries: ${diff.lines.join('; ')}`);
  const summary = summarize(source);
  ctx.log(`${b} matches ${a} (${summary.files} files, ${humanBytes(summary.bytes)}, tree sha256 ${summary.digest.slice(0, 16)})`);
}

// ——— installation archives ———

/** tar's flag for the compression an archive's name says it has. */
export function archiveTarFlag(archivePath: string): string {
  if (/\.(tar\.zst|tzst)$/.test(archivePath)) return '--zstd';
  if (/\.(tar\.gz|tgz)$/.test(archivePath)) return '-z';
  if (/\.tar$/.test(archivePath)) return '';
  throw new ActionError('precondition', `${archivePath}: expected a .tar.zst, .tar.gz, .tgz or .tar archive`);
}

/** Bash that prints `<sha256>\t<member>` for every regular file in the archive, without unpacking it. */
export function archiveHashesScript(archivePath: string): string {
  const perMember = `printf '%s\\t%s\\n' "$(sha256sum | cut -d' ' -f1)" "$TAR_FILENAME"`;
  return `tar ${archiveTarFlag(archivePath)} -xf ${shq(archivePath)} --to-command=${shq(perMember)}`;
}

function normalizeMember(name: string): string {
  return `./${name.replace(/^(\.\/)+/, '')}`;
}

export interface ExtractArchiveOptions {
  chown?: string;
  remoteTempDir?: string;
  localTempDir?: string;
  timeoutMs?: number;
}

/**
 * Unpacks an installation archive kept on backup store `store` (under the fleet's
 * `backups.installDir`, e.g. `/root/workdir/wwwroot.tar.zst`) into `path` on machine `to`.
 * When the store keeps `<archive>.sha256` beside it, the copy that arrived is checked against it.
 */
export function extractArchive(store: string, archivePath: string, to: string, path: string, options: ExtractArchiveOptions = {}): Action {
  const remoteTemp = options.remoteTempDir ?? '/tmp';
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const tarFlag = archiveTarFlag(archivePath);
  const suffix = archivePath.slice(archivePath.lastIndexOf('/') + 1).replace(/^[^.]*/, '');

  async function expectedSum(remote: Remote): Promise<string | undefined> {
    const text = await readTextOrUndefined(remote, `${archivePath}.sha256`);
    const sum = text?.trim().split(/\s+/)[0];
    return sum && /^[0-9a-f]{64}$/.test(sum) ? sum : undefined;
  }

  return {
    title: `Unpack ${store}:${archivePath} into ${path} on ${to}`,
    machines: [store, to],
    mutating: true,
    async plan(ctx) {
      const source = ctx.remote(store);
      if (!(await existsOn(source, archivePath))) throw new ActionError('precondition', `${store}: ${archivePath} does not exist`);
      const sum = await expectedSum(source);
      const landed = `${remoteTemp}/lifeboat-relay-XXXXXXXX${suffix}`;
      return [
        { kind: 'note', text: `relay ${store}:${archivePath} through the operator to ${to}:${landed}` },
        sum
          ? { kind: 'command', machine: to, command: `sha256sum -- ${landed}  # must be ${sum}` }
          : { kind: 'note', machine: store, text: `no ${archivePath}.sha256 beside the archive: the transfer is checked by the unpacked files only` },
        { kind: 'command', machine: to, command: bash(unpackScript(landed, path, { chown: options.chown, tarFlag })) },
      ];
    },
    async apply(ctx) {
      const source = ctx.remote(store);
      const target = ctx.remote(to);
      let landed: string | undefined;
      try {
        const sum = await expectedSum(source);
        landed = await tempFileOn(target, remoteTemp, suffix);
        await relayFile(source, archivePath, target, landed, options.localTempDir);
        if (sum) {
          const got = (await runBash(target, `sha256sum -- ${shq(landed)}`, { timeoutMs })).stdout.trim().split(/\s+/)[0];
          if (got !== sum) throw new ActionError('apply-failed', `${to}: ${archivePath} arrived with sha256 ${got}, the store says ${sum}`);
        }
        await runBash(target, unpackScript(landed, path, { chown: options.chown, tarFlag }), { timeoutMs });
        landed = undefined;
      } catch (error) {
        wrap(error, 'apply-failed', `unpack ${store}:${archivePath} on ${to}`);
      } finally {
        if (landed) await target.run(`rm -f -- ${shq(landed)}`).catch(() => undefined);
      }
      ctx.log(`${to}: ${archivePath} from ${store} unpacked into ${path}`);
    },
    async verify(ctx) {
      // The archive's own members, hashed on the store, against the files on the machine.
      const expected = new Map<string, string>();
      try {
        const r = await runBash(ctx.remote(store), archiveHashesScript(archivePath), { timeoutMs });
        for (const line of r.stdout.split('\n')) {
          const tab = line.indexOf('\t');
          if (tab === 64) expected.set(normalizeMember(line.slice(tab + 1)), line.slice(0, tab));
        }
      } catch (error) {
        wrap(error, 'verify-failed', `cannot read ${store}:${archivePath}`);
      }
      let found = new Map<string, string>();
      try {
        const list = [...expected.keys()].join('\0');
        // Missing files make sha256sum exit 1; they are reported below by name.
        const r = await ctx.remote(to).run(bash(`cd -- ${shq(path)}\nxargs -0 -r sha256sum -- || true`), { stdin: list, timeoutMs });
        found = new Map(
          r.stdout.split('\n').flatMap((line) => {
            const match = /^([0-9a-f]{64}) {2}(.*)$/.exec(line);
            return match ? [[match[2]!, match[1]!] as const] : [];
          }),
        );
      } catch (error) {
        if (error instanceof RemoteError) wrap(error, 'verify-failed', `cannot read ${path} on ${to}`);
        throw error;
      }
      const bad = [...expected].filter(([member, sum]) => found.get(member) !== sum).map(([member]) => member);
      if (bad.length > 0) {
        throw new ActionError('verify-failed', `${to}:${path}: ${bad.length} of ${expected.size} files of ${archivePath} are missing or differ (${bad.slice(0, 5).join(', ')})`);
      }
      if (expected.size === 0) throw new ActionError('verify-failed', `${store}:${archivePath} holds no files`);
    },
  };
}
