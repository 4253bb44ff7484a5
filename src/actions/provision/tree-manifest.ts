/**
 * What a folder holds, listed the same way on two machines so a copy can be checked: every
 * entry's kind, every file's size and sha256, every link's target. Exclusions are applied
 * with the same `find -prune` expression that chose what to pack, so the listing and the
 * archive can never disagree about what was left out.
 */
import { createHash } from 'node:crypto';
import type { Remote } from '../../remote/remote.ts';
import { ActionError } from '../action.ts';
import { runBash, shq } from './remote-shell.ts';

export type TreeEntry =
  | { kind: 'file'; size: number; sha256: string }
  | { kind: 'link'; target: string }
  | { kind: 'dir' };

/** Relative path (`./a/b`) → entry. */
export type TreeManifest = Map<string, TreeEntry>;

/**
 * Checks exclusion patterns. A pattern without `/` is a name (shell glob) matched at any
 * depth (`*.log`, `logs`); one with `/` is a path from the folder's top (`go/go-api/logs`).
 */
export function checkExcludes(exclude: readonly string[]): string[] {
  return exclude.map((pattern) => {
    const trimmed = pattern.replace(/^\.?\/+/, '').replace(/\/+$/, '');
    if (trimmed === '' || trimmed.split('/').includes('..')) {
      throw new ActionError('precondition', `exclude pattern ${JSON.stringify(pattern)}: expected a name or a path inside the folder`);
    }
    return trimmed;
  });
}

/** `find` tests that prune the excluded entries, ending in `-o` (empty when nothing is excluded). */
export function pruneExpression(exclude: readonly string[]): string {
  const tests = checkExcludes(exclude).map((p) => (p.includes('/') ? `-path ${shq(`./${p}`)}` : `-name ${shq(p)}`));
  return tests.length === 0 ? '' : `\\( ${tests.join(' -o ')} \\) -prune -o `;
}

const HASHES = '@@lifeboat-hashes';

/** Bash that prints the listing of `path` (see `parseManifest`); `cd` fails when it is missing. */
export function manifestScript(path: string, exclude: readonly string[]): string {
  const prune = pruneExpression(exclude);
  return [
    `cd -- ${shq(path)}`,
    `find . ${prune}\\( -type f -printf 'f\\t%s\\t%p\\n' -o -type l -printf 'l\\t%l\\t%p\\n' -o -type d -printf 'd\\t-\\t%p\\n' \\) | LC_ALL=C sort`,
    `echo ${HASHES}`,
    `find . ${prune}-type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum --`,
  ].join('\n');
}

export function parseManifest(output: string): TreeManifest {
  const [listing = '', hashes = ''] = output.split(`${HASHES}\n`);
  const manifest: TreeManifest = new Map();
  const sizes = new Map<string, number>();
  for (const line of listing.split('\n')) {
    if (!line) continue;
    const [kind, detail = '', ...rest] = line.split('\t');
    const path = rest.join('\t');
    if (kind === 'f') sizes.set(path, Number(detail));
    else if (kind === 'l') manifest.set(path, { kind: 'link', target: detail });
    else if (kind === 'd') manifest.set(path, { kind: 'dir' });
  }
  for (const line of hashes.split('\n')) {
    const match = /^([0-9a-f]{64}) {2}(.*)$/.exec(line);
    if (!match) continue;
    const path = match[2]!;
    manifest.set(path, { kind: 'file', size: sizes.get(path) ?? -1, sha256: match[1]! });
  }
  // A file listed without a hash vanished between the two finds, or could not be read.
  for (const [path, size] of sizes) if (!manifest.has(path)) manifest.set(path, { kind: 'file', size, sha256: 'unreadable' });
  return manifest;
}

export async function readManifest(remote: Remote, path: string, exclude: readonly string[], timeoutMs: number): Promise<TreeManifest> {
  const r = await runBash(remote, manifestScript(path, exclude), { timeoutMs });
  return parseManifest(r.stdout);
}

/** One sha256 over the whole listing: equal trees have equal digests, whatever the machine. */
export function treeDigest(manifest: TreeManifest): string {
  const hash = createHash('sha256');
  for (const path of [...manifest.keys()].sort()) hash.update(`${path}\0${JSON.stringify(manifest.get(path))}\n`);
  return hash.digest('hex');
}

export function summarize(manifest: TreeManifest): { files: number; bytes: number; digest: string } {
  let files = 0;
  let bytes = 0;
  for (const entry of manifest.values()) {
    if (entry.kind !== 'file') continue;
    files++;
    bytes += Math.max(0, entry.size);
  }
  return { files, bytes, digest: treeDigest(manifest) };
}

function describe(entry: TreeEntry | undefined): string {
  if (!entry) return 'missing';
  if (entry.kind === 'file') return `file of ${entry.size} bytes, sha256 ${entry.sha256.slice(0, 12)}`;
  if (entry.kind === 'link') return `link to ${entry.target}`;
  return 'folder';
}

/** Differences in a readable form, at most `limit` of them (empty when the trees are equal). */
export function compareManifests(source: TreeManifest, target: TreeManifest, limit = 5): { count: number; lines: string[] } {
  const lines: string[] = [];
  let count = 0;
  for (const path of new Set([...source.keys(), ...target.keys()])) {
    const a = source.get(path);
    const b = target.get(path);
    if (JSON.stringify(a) === JSON.stringify(b)) continue;
    count++;
    if (lines.length < limit) lines.push(`${path}: source has ${describe(a)}, copy has ${describe(b)}`);
  }
  return { count, lines };
}

export function humanBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}
