/** The tar commands that pack a folder on one machine and unpack an archive on another. */
import { shq, type Remote } from '../../remote/remote.ts';
import { runBash } from './remote-shell.ts';
import { pruneExpression } from './tree-manifest.ts';

/** Bash that packs `path` (minus exclusions) into a fresh temp archive and prints its path. */
export function packScript(path: string, exclude: readonly string[], tempDir: string): string {
  return [
    `t=$(mktemp ${shq(`${tempDir}/lifeboat-tree-XXXXXXXX.tar.gz`)})`,
    // A failure after mktemp must not leave the archive behind; success hands it over.
    `trap '[ -n "\${packed:-}" ] || rm -f -- "$t"' EXIT`,
    `cd -- ${shq(path)}`,
    // Sorted, explicit member list: the archive holds exactly what the manifest lists.
    `find . ${pruneExpression(exclude)}-print0 | LC_ALL=C sort -z | tar --null --no-recursion -T - -cf - | gzip -1 > "$t"`,
    `packed=1`,
    `echo "$t"`,
  ].join('\n');
}

export interface UnpackOptions {
  /** tar's decompression flag (`-z`, `--zstd`, or empty). */
  tarFlag: string;
  /** `user[:group]` given to what was unpacked. */
  chown?: string;
  /** Only these members (as the archive names them), and only they are re-owned. */
  members?: readonly string[];
}

/** Bash that unpacks `archive` into `path` (created if needed), optionally re-owns it, and removes the archive. */
export function unpackScript(archive: string, path: string, options: UnpackOptions): string {
  const members = options.members ?? [];
  const owned = members.length ? members.map((m) => `${path.replace(/\/$/, '')}/${m.replace(/^(\.\/)+/, '')}`) : [path];
  return [
    `mkdir -p -- ${shq(path)}`,
    `tar -C ${shq(path)} ${options.tarFlag} -xf ${shq(archive)}${members.length ? ` -- ${members.map(shq).join(' ')}` : ''}`,
    ...(options.chown ? [`chown -R -- ${shq(options.chown)} ${owned.map(shq).join(' ')}`] : []),
    `rm -f -- ${shq(archive)}`,
  ].join('\n');
}

export async function tempFileOn(remote: Remote, tempDir: string, suffix: string): Promise<string> {
  const r = await runBash(remote, `mktemp ${shq(`${tempDir}/lifeboat-relay-XXXXXXXX${suffix}`)}`);
  return r.stdout.trim();
}
