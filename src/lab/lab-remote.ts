/**
 * The `Remote` contract over nsenter into a lab host: how the lab bootstraps a host before
 * its sshd runs, and how tests reach a host without SSH. Actions cannot tell it from SSH.
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { backupPathCandidates } from '../remote/backup-name.ts';
import {
  RemoteError,
  RemoteFileNotFoundError,
  shq,
  type Remote,
  type RunOptions,
  type RunResult,
  type WriteOptions,
  type WriteResult,
} from '../remote/remote.ts';
import { execRaw, nsenterArgv } from './host-exec.ts';
import { runTimeoutMs } from '../remote/bounds.ts';

export class LabRemote implements Remote {
  constructor(
    readonly machine: string,
    /** The host's anchor (its PID 1 seen from the machine); looked up on every call. */
    private readonly anchorPid: () => number,
  ) {}

  async run(command: string, options: RunOptions = {}): Promise<RunResult> {
    const r = await execRaw(this.anchorPid(), this.machine, command, { ...options, timeoutMs: runTimeoutMs(options) }, true);
    return { code: r.code, signal: r.signal, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8'), ms: r.ms };
  }

  async readFile(path: string): Promise<Buffer> {
    const r = await execRaw(this.anchorPid(), this.machine, `if [ -f ${shq(path)} ]; then exec cat -- ${shq(path)}; else exit 44; fi`);
    if (r.code === 44) throw new RemoteFileNotFoundError(this.machine, path);
    if (r.code !== 0) throw new RemoteError('io-failed', this.machine, `cannot read ${path}: ${r.stderr.toString().trim()}`);
    return r.stdout;
  }

  async writeFile(path: string, content: string | Buffer, options: WriteOptions = {}): Promise<WriteResult> {
    const backup = options.backup ?? true;
    const mode = (options.mode ?? 0o644).toString(8);
    const candidates = backup ? backupPathCandidates('$t', new Date()).map((c) => c.replace('$t', '"$t"')) : [];
    // Edits the symlink's target, keeps owner and mode of an existing file, never leaves the
    // temp file behind, and says what it did on stdout for the result.
    const script = `set -e
t=$(readlink -f -- ${shq(path)}) || { echo "no such folder" >&2; exit 45; }
d=$(dirname -- "$t")
[ -d "$d" ] || { echo "no such folder: $d" >&2; exit 45; }
tmp="$d/.$(basename -- "$t").lifeboat-tmp-$$"
trap 'rm -f "$tmp"' EXIT
cat > "$tmp"
if [ -f "$t" ]; then
  if cmp -s "$tmp" "$t"; then echo unchanged; exit 0; fi
  chown --reference="$t" "$tmp"; chmod --reference="$t" "$tmp"
  ${backup ? `for b in ${candidates.join(' ')}; do if [ ! -e "$b" ]; then cp -p -- "$t" "$b"; echo "backup $b"; break; fi; done` : ':'}
else
  chmod ${mode} "$tmp"
fi
sync "$tmp"
mv -f -- "$tmp" "$t"
trap - EXIT
echo written`;
    const r = await execRaw(this.anchorPid(), this.machine, script, { stdin: content });
    if (r.code !== 0) {
      throw new RemoteError('io-failed', this.machine, `cannot write ${path}: ${r.stderr.toString().trim() || `exit ${r.code ?? r.signal}`}`);
    }
    const out = r.stdout.toString();
    if (out.startsWith('unchanged')) return { unchanged: true };
    const b = /^backup (.+)$/m.exec(out)?.[1];
    return b ? { unchanged: false, backupPath: b } : { unchanged: false };
  }

  async upload(localPath: string, remotePath: string): Promise<void> {
    const info = await stat(localPath).catch((cause: unknown) => {
      throw new RemoteError('io-failed', this.machine, `cannot read ${localPath}`, { cause });
    });
    if (!info.isDirectory()) {
      const parent = await this.run(`mkdir -p -- ${shq(dirname(remotePath))}`);
      if (parent.code !== 0) throw new RemoteError('io-failed', this.machine, `cannot create ${dirname(remotePath)}: ${parent.stderr.trim()}`);
      await this.writeFile(remotePath, await readFile(localPath), { backup: false, mode: info.mode & 0o7777 });
      return;
    }
    await this.pipeTar(['tar', '-C', localPath, '-cf', '-', '.'], `mkdir -p ${shq(remotePath)} && tar -C ${shq(remotePath)} -xf -`, 'in');
  }

  async download(remotePath: string, localPath: string): Promise<void> {
    const kind = await this.run(`if [ -d ${shq(remotePath)} ]; then echo d; elif [ -f ${shq(remotePath)} ]; then echo f; fi`);
    const what = kind.stdout.trim();
    if (what === 'f') {
      await mkdir(dirname(localPath), { recursive: true });
      await writeFile(localPath, await this.readFile(remotePath));
      return;
    }
    if (what !== 'd') throw new RemoteFileNotFoundError(this.machine, remotePath);
    await mkdir(localPath, { recursive: true });
    await this.pipeTar(['tar', '-C', localPath, '-xf', '-'], `tar -C ${shq(remotePath)} -cf - .`, 'out');
  }

  /** Streams a tar archive between the machine and the host (large folders never sit in memory). */
  private pipeTar(local: string[], inHost: string, direction: 'in' | 'out'): Promise<void> {
    return new Promise((resolve, reject) => {
      const [hf, ...ha] = nsenterArgv(this.anchorPid(), this.machine, inHost);
      const host = spawn(hf!, ha, { stdio: ['pipe', 'pipe', 'pipe'] });
      const here = spawn(local[0]!, local.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
      if (direction === 'in') here.stdout.pipe(host.stdin);
      else host.stdout.pipe(here.stdin);
      const errors: string[] = [];
      host.stderr.on('data', (b: Buffer) => errors.push(b.toString()));
      here.stderr.on('data', (b: Buffer) => errors.push(b.toString()));
      let pending = 2;
      let failed = false;
      const done = (code: number | null) => {
        if (code !== 0) failed = true;
        if (--pending === 0) {
          if (failed) reject(new RemoteError('io-failed', this.machine, `copy failed: ${errors.join(' ').trim()}`));
          else resolve();
        }
      };
      host.on('close', done);
      here.on('close', done);
      host.on('error', reject);
      here.on('error', reject);
    });
  }

  async close(): Promise<void> {
    /* nothing held open between commands */
  }
}
