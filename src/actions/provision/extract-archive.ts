/**
 * Unpacks an installation archive kept on a backup store onto a machine (runbook §4.4 and
 * scenario 5: build a new machine from scratch with the files under `backups.installDir`).
 * The archive goes straight from the store to the machine (`relay.ts`), checked on both ends
 * against its `<archive>.sha256` sidecar when the store keeps one; an archive sealed for an
 * off-site store is relayed through the operator and opened there, so the key never reaches
 * a machine. Verify hashes every member of the
 * archive and the file unpacked from it.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalRemote } from '../../remote/local.ts';
import { sha256OfFile } from '../../util/file-hash.ts';
import type { Remote } from '../../remote/remote.ts';
import { ActionError, type Action, type ActionContext, type Change } from '../action.ts';
import { rethrowAs } from './action-errors.ts';
import { bash, existsOn, readTextOrUndefined, runBash, shq } from './remote-shell.ts';
import { unpackScript } from './tar-scripts.ts';
import { directRoute, moveFile } from './relay.ts';

export interface ExtractArchiveOptions {
  /**
   * Only these members, as the archive names them. prepare's installation archives name
   * paths from / (`wwwroot/go/go-api`, `shell`, `etc/nginx`), so `['wwwroot', 'shell']` into
   * `/` rebuilds an app server's files without the source machine's crontab or nginx.
   */
  members?: readonly string[];
  /** `user[:group]` given to what was unpacked. */
  chown?: string;
  /**
   * Opens an archive sealed for an off-site store (`….enc`): called on the operator's copy
   * with the sealed and the clear path, e.g. `openFile` (util/seal.ts) with the backup key.
   */
  decrypt?: (sealedPath: string, clearPath: string) => Promise<unknown>;
  remoteTempDir?: string;
  localTempDir?: string;
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 30 * 60_000;

/** The archive's name without the `.enc` of a sealed copy. */
function clearName(archivePath: string): string {
  return archivePath.replace(/\.enc$/, '');
}

/** tar's flag for the compression an archive's name says it has. */
export function archiveTarFlag(archivePath: string): string {
  const name = clearName(archivePath);
  if (/\.(tar\.zst|tzst)$/.test(name)) return '--zstd';
  if (/\.(tar\.gz|tgz)$/.test(name)) return '-z';
  if (/\.tar$/.test(name)) return '';
  throw new ActionError('precondition', `${archivePath}: expected a .tar.zst, .tar.gz, .tgz or .tar archive (or one of those sealed as .enc)`);
}

/** Bash that prints `<sha256>\t<member>` for every regular file (of `members`) in the archive, without unpacking it. */
export function archiveHashesScript(archivePath: string, members: readonly string[] = []): string {
  const perMember = `printf '%s\\t%s\\n' "$(sha256sum | cut -d' ' -f1)" "$TAR_FILENAME"`;
  const only = members.length ? ` -- ${members.map(shq).join(' ')}` : '';
  return `tar ${archiveTarFlag(archivePath)} -xf ${shq(archivePath)} --to-command=${shq(perMember)}${only}`;
}

function normalizeMember(name: string): string {
  return `./${name.replace(/^(\.\/)+/, '')}`;
}

function parseHashes(output: string): Map<string, string> {
  const hashes = new Map<string, string>();
  for (const line of output.split('\n')) {
    const tab = line.indexOf('\t');
    if (tab === 64) hashes.set(normalizeMember(line.slice(tab + 1)), line.slice(0, tab));
  }
  return hashes;
}

export function extractArchive(store: string, archivePath: string, to: string, path: string, options: ExtractArchiveOptions = {}): Action {
  const remoteTemp = options.remoteTempDir ?? '/tmp';
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const members = options.members ?? [];
  const tarFlag = archiveTarFlag(archivePath);
  const sealed = archivePath.endsWith('.enc');
  if (sealed && !options.decrypt) throw new ActionError('precondition', `${archivePath} is sealed for an off-site store: pass a decrypt function (the backup key stays on the operator's machine)`);
  if (options.chown && members.length === 0 && path === '/') throw new ActionError('precondition', 'chown of a whole archive unpacked into / would re-own the machine: name the members');
  const suffix = clearName(archivePath).slice(archivePath.lastIndexOf('/') + 1).replace(/^[^.]*/, '');
  const unpack = (landed: string) => unpackScript(landed, path, { tarFlag, chown: options.chown, members });
  // Fixed temporary names for this archive and target (see apply).
  const key = createHash('sha256').update(`${store}:${archivePath}>${to}:${path}`).digest('hex').slice(0, 16);
  const landedPath = `${remoteTemp}/lifeboat-relay-${key}${suffix}`;

  async function expectedSum(remote: Remote): Promise<string | undefined> {
    const sum = (await readTextOrUndefined(remote, `${archivePath}.sha256`))?.trim().split(/\s+/)[0];
    return sum && /^[0-9a-f]{64}$/.test(sum) ? sum : undefined;
  }

  /** Downloads the archive, checks its sidecar and opens it; returns the clear local copy. */
  async function fetch(ctx: ActionContext, dir: string): Promise<string> {
    const source = ctx.remote(store);
    // Local names keep the archive's suffix: it is what tells tar (and archiveTarFlag) the format.
    const local = join(dir, `archive${sealed ? `${suffix}.enc` : suffix}`);
    await source.download(archivePath, local);
    const sum = await expectedSum(source);
    if (sum) {
      const got = await sha256OfFile(local);
      if (got !== sum) throw new Error(`${store}:${archivePath} arrived with sha256 ${got}, its .sha256 says ${sum}`);
    }
    if (!sealed) return local;
    const clear = join(dir, `clear${suffix}`);
    await options.decrypt!(local, clear);
    return clear;
  }

  /** Hashes of the archive's members: on the store, or on the operator for a sealed copy. */
  async function memberHashes(ctx: ActionContext): Promise<Map<string, string>> {
    if (!sealed) return parseHashes((await runBash(ctx.remote(store), archiveHashesScript(archivePath, members), { timeoutMs })).stdout);
    const dir = await mkdtemp(join(options.localTempDir ?? tmpdir(), 'lifeboat-archive-'));
    try {
      const clear = await fetch(ctx, dir);
      return parseHashes((await runBash(new LocalRemote('operator'), archiveHashesScript(clear, members), { timeoutMs })).stdout);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  return {
    title: `Unpack ${store}:${archivePath}${members.length ? ` (${members.join(', ')})` : ''} into ${path} on ${to}`,
    machines: [store, to],
    mutating: true,
    async plan(ctx) {
      const source = ctx.remote(store);
      if (!(await existsOn(source, archivePath))) throw new ActionError('precondition', `${store}: ${archivePath} does not exist`);
      const sum = await expectedSum(source);
      const landed = landedPath;
      const changes: Change[] = [
        {
          kind: 'note',
          text: `${sealed || !directRoute(ctx, store, to) ? `relay ${store}:${archivePath} through the operator` : `stream ${store}:${archivePath} straight to ${to} over SSH`}${sum ? ` (checked against its .sha256, ${sum.slice(0, 16)}…)` : ' (no .sha256 beside it: only the unpacked files are checked)'}${sealed ? ', decrypted there' : ''}, to ${to}:${landed}`,
        },
        { kind: 'command', machine: to, command: bash(unpack(landed)) },
      ];
      return changes;
    },
    async apply(ctx) {
      const target = ctx.remote(to);
      // Fixed names for this archive and target: a run killed mid-copy leaves its temporary
      // copies (config files, DSNs with passwords) where the re-applied step finds, replaces
      // and removes them, instead of beside fresh ones forever.
      const dir = join(options.localTempDir ?? tmpdir(), `lifeboat-archive-${key}`);
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { mode: 0o700 });
      let landed: string | undefined = landedPath;
      try {
        await runBash(target, `rm -f -- ${shq(landed)}; (umask 077; : > ${shq(landed)})`);
        if (sealed) {
          // Opened on the operator's machine: the key never reaches the store or the target.
          const clear = await fetch(ctx, dir);
          await target.upload(clear, landed);
        } else {
          const sum = await expectedSum(ctx.remote(store));
          const moved = await moveFile(ctx, store, archivePath, to, landed, { expectSha256: sum, localTempDir: dir, timeoutMs });
          if (moved.route === 'relayed' && sum) {
            const got = (await runBash(target, `sha256sum -- ${shq(landed)} | cut -d' ' -f1`, { timeoutMs })).stdout.trim();
            if (got !== sum) throw new Error(`${store}:${archivePath} arrived on ${to} with sha256 ${got}, its .sha256 says ${sum}`);
          }
        }
        await runBash(target, unpack(landed), { timeoutMs });
        landed = undefined;
      } catch (error) {
        rethrowAs(error, 'apply-failed', `unpack ${store}:${archivePath} on ${to}`);
      } finally {
        await rm(dir, { recursive: true, force: true });
        // Best-effort removal of the temporary copy; a resumed step removes it too (fixed name).
        if (landed) await target.run(`rm -f -- ${shq(landed)}`).catch(() => undefined);
      }
      ctx.log(`${to}: ${archivePath} from ${store} unpacked into ${path}`);
    },
    async verify(ctx) {
      let expected: Map<string, string>;
      try {
        expected = await memberHashes(ctx);
      } catch (error) {
        rethrowAs(error, 'verify-failed', `cannot read ${store}:${archivePath}`);
      }
      if (expected.size === 0) throw new ActionError('verify-failed', `${store}:${archivePath} holds no files${members.length ? ` under ${members.join(', ')}` : ''}`);
      // Missing files make sha256sum exit 1; they are reported below by name.
      const r = await ctx.remote(to).run(bash(`cd -- ${shq(path)}\nxargs -0 -r sha256sum -- || true`), { stdin: [...expected.keys()].join('\0'), timeoutMs });
      const found = new Map<string, string>();
      for (const line of r.stdout.split('\n')) {
        const match = /^([0-9a-f]{64}) {2}(.*)$/.exec(line);
        if (match) found.set(match[2]!, match[1]!);
      }
      const bad = [...expected].filter(([member, sum]) => found.get(member) !== sum).map(([member]) => member);
      if (bad.length > 0) {
        throw new ActionError('verify-failed', `${to}:${path}: ${bad.length} of ${expected.size} files of ${archivePath} are missing or differ (${bad.slice(0, 5).join(', ')})`);
      }
    },
  };
}
