/**
 * A file copied straight from one machine to another: the source pipes it into `ssh` to the
 * target, so the bytes never touch the operator's line or disk (a dump of a few GB over a
 * home connection was the slowest part of a rebuild).
 *
 * The machines do not trust each other over SSH, so each copy brings a trust of its own and
 * takes it away again:
 * - a key pair made for this copy on the source, in a private work folder (the private half
 *   never leaves it);
 * - on the target, one authorized_keys line for it that may only run this copy's receiver,
 *   only from the source's address (`restrict,from=…,command=…`);
 * - the target's host key pinned on the source from the target's own file, read over
 *   lifeboat's verified connection: no trust on first use.
 * Both ends hash what passed (the source as it sends, the target as it writes); the file
 * takes its name only when both sums agree (and match the expected one, when known), by an
 * atomic rename. A copy that fails is removed and started again once from the start, never
 * resumed from a part of unknown content. When the source cannot open an SSH connection to
 * the target at all (a firewall between them), nothing was sent: the caller may relay.
 */
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { RemoteError, shq, type Remote } from './remote.ts';
import { bash, privateWorkDir } from './shell.ts';
import { SFTP_TRANSFER_TIMEOUT_MS } from './bounds.ts';

/** How the source reaches the target's sshd, and where the target's trust lives. */
export interface StreamRoute {
  /** The target's address and SSH port as the source dials them. */
  address: string;
  port: number;
  /** The SSH user on the target (whose authorized_keys takes the copy's key). */
  user: string;
  /** The source's address as the target sees it: the only one the copy's key works from. */
  sourceAddress: string;
  /** The target sshd's public host key. Default Debian's ed25519 key. */
  hostKeyPath?: string;
  /** Work folders on both machines. Default /tmp. */
  tempDir?: string;
}

export interface StreamOptions {
  /** The sha256 the file must have (from a manifest or a sidecar): checked on both ends. */
  expectSha256?: string;
  /** The whole copy, per attempt. Default six hours, like an SFTP transfer. */
  timeoutMs?: number;
  log?: (message: string) => void;
}

export interface StreamResult {
  sha256: string;
  bytes: number;
  ms: number;
  attempts: number;
}

/** The source could not reach the target's sshd: nothing was sent. */
export class StreamUnreachableError extends RemoteError {
  constructor(machine: string, target: string, readonly detail: string) {
    super('connect-failed', machine, `cannot open SSH from ${machine} to ${target}: ${detail}`);
  }
}

const DEFAULT_HOST_KEY = '/etc/ssh/ssh_host_ed25519_key.pub';
const SHA256 = /^[0-9a-f]{64}$/;

/** The marker that names this copy's line in the target's authorized_keys. */
const markerOf = (nonce: string): string => `lifeboat-stream:${nonce}`;

/**
 * The receiver the copy's key may run on the target: writes what arrives to `part` and
 * prints its sha256. bash for pipefail: a write that failed (disk full) fails the copy.
 */
export function receiverScript(part: string): string {
  return ['#!/bin/bash', 'set -euo pipefail', 'umask 077', `tee -- ${shq(part)} | sha256sum | cut -d' ' -f1`, ''].join('\n');
}

/** The authorized_keys line of one copy: its key, from the source only, this receiver only. */
export function streamKeyLine(publicKey: string, sourceAddress: string, receiver: string, nonce: string): string {
  const [type, blob] = publicKey.trim().split(/\s+/);
  if (!type || !blob || !/^[A-Za-z0-9+/=]+$/.test(blob)) throw new Error(`not an SSH public key: ${JSON.stringify(publicKey.slice(0, 40))}`);
  if (!/^[0-9A-Za-z.:-]+$/.test(sourceAddress)) throw new Error(`not an address: ${JSON.stringify(sourceAddress)}`);
  if (!/^[A-Za-z0-9/._-]+$/.test(receiver)) throw new Error(`receiver path ${JSON.stringify(receiver)}: letters, digits, / . _ - only`);
  return `restrict,from="${sourceAddress}",command="/bin/bash ${receiver}" ${type} ${blob} ${markerOf(nonce)}`;
}

/** Adds (or removes) one line of authorized_keys on the target: a copy beside it first, then an atomic rename. */
function authorizedKeysEdit(add: string | undefined, nonce: string): string {
  return `umask 077
mkdir -p -m 700 "$HOME/.ssh"
ak="$HOME/.ssh/authorized_keys"
[ -e "$ak" ] || : > "$ak"
# Copies to one machine at once take turns with this file.
exec 9> "$HOME/.ssh/.lifeboat-stream.lock"
flock -w 60 9
cp -p -- "$ak" "$ak.lifeboat-stream.bak"
grep -vF -- ${shq(` ${markerOf(nonce)}`)} "$ak" > "$ak.lifeboat-stream.tmp" || [ $? = 1 ]
${add === undefined ? '' : `printf '%s\\n' ${shq(add)} >> "$ak.lifeboat-stream.tmp"`}
chmod 600 "$ak.lifeboat-stream.tmp"
mv -f -- "$ak.lifeboat-stream.tmp" "$ak"`;
}

/**
 * What is sent: a file, or what a command prints (a backup tool's stream): its standard
 * error is kept beside, and its exit code fails the copy (pipefail).
 */
export type StreamSource = string | { command: string; what: string };

const describeSource = (source: StreamSource): string => (typeof source === 'string' ? source : source.what);

/** The sender on the source: the file through `tee` (hashed on the way) into ssh. Prints what each end saw. */
export function senderScript(dir: string, source: StreamSource, route: StreamRoute): string {
  const ssh = [
    'ssh', '-T', '-i', `${dir}/key`, '-o', 'IdentitiesOnly=yes', '-o', `UserKnownHostsFile=${dir}/known_hosts`,
    '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10',
    // A link that dies mid-copy ends the copy within a minute instead of hanging it.
    '-o', 'ServerAliveInterval=15', '-o', 'ServerAliveCountMax=4', '-o', 'Compression=no',
    '-p', String(route.port), `${route.user}@${route.address}`,
  ].map(shq).join(' ');
  return `d=${shq(dir)}
rm -f "$d/fifo"; mkfifo -m 600 "$d/fifo"
sha256sum < "$d/fifo" | cut -d' ' -f1 > "$d/sent" & hasher=$!
rc=0
${typeof source === 'string' ? `cat -- ${shq(source)}` : `{ ${source.command}; } 2> "$d/source.err"`} | tee -- "$d/fifo" | ${ssh} > "$d/received" 2> "$d/ssh.err" || rc=$?
wait "$hasher" || true
printf 'rc=%s\\nsent=%s\\nreceived=%s\\nbytes=%s\\n' "$rc" "$(cat "$d/sent" 2>/dev/null)" "$(cat "$d/received" 2>/dev/null)" "${typeof source === 'string' ? `$(stat -c %s -- ${shq(source)})` : ''}"
${typeof source === 'string' ? '' : `[ "$rc" = 0 ] || tail -c 2000 "$d/source.err" >&2 || true
`}tail -c 2000 "$d/ssh.err" >&2 || true`;
}

interface SenderReport {
  rc: number;
  sent: string;
  received: string;
  bytes: number;
}

export function parseSenderReport(stdout: string): SenderReport {
  const field = (name: string): string => new RegExp(`^${name}=(.*)$`, 'm').exec(stdout)?.[1]?.trim() ?? '';
  return { rc: Number(field('rc') || NaN), sent: field('sent'), received: field('received'), bytes: Number(field('bytes') || NaN) };
}

/** ssh's own failures (exit 255) before a byte arrived: the route, not the copy, is at fault. */
function unreachable(report: SenderReport, stderr: string): boolean {
  return report.rc === 255 && report.received === '' && /connect to host|Connection (refused|timed out|closed)|No route to host|Network is unreachable|Could not resolve|Host key verification failed|Permission denied|kex_exchange_identification/i.test(stderr);
}

/**
 * Copies `fromPath` on `from` to `toPath` on `to`, machine to machine (see the file's head).
 * Resolves once `toPath` holds the file with the same sha256 on both ends.
 */
export async function streamFile(from: Remote, fromPath: StreamSource, to: Remote, toPath: string, route: StreamRoute, options: StreamOptions = {}): Promise<StreamResult> {
  if (options.expectSha256 !== undefined && !SHA256.test(options.expectSha256)) throw new Error(`expected sha256 ${JSON.stringify(options.expectSha256)} is not one`);
  let last: Error | undefined;
  for (let attempt = 1; attempt <= 2; attempt++) {
    try {
      return { ...(await streamOnce(from, fromPath, to, toPath, route, options)), attempts: attempt };
    } catch (error) {
      // Unreachable is not worth a second try here: the caller decides (relay, or say so).
      if (error instanceof StreamUnreachableError) throw error;
      last = error as Error;
      if (attempt === 1) options.log?.(`${from.machine} → ${to.machine}: ${posix.basename(toPath)} failed (${last.message}); starting it again from the start`);
    }
  }
  throw last!;
}

async function streamOnce(from: Remote, fromPath: StreamSource, to: Remote, toPath: string, route: StreamRoute, options: StreamOptions): Promise<Omit<StreamResult, 'attempts'>> {
  const started = performance.now();
  const temp = route.tempDir ?? '/tmp';
  const nonce = randomBytes(8).toString('hex');
  // A name of this attempt's own: a part left by a broken earlier copy is never appended to.
  const part = `${toPath}.lifeboat-part-${nonce}`;
  const timeoutMs = options.timeoutMs ?? SFTP_TRANSFER_TIMEOUT_MS;
  let sourceDir: string | undefined;
  let targetDir: string | undefined;
  let keyAdded = false;
  try {
    const tools = await from.run('command -v ssh && command -v ssh-keygen && command -v mkfifo', { timeoutMs: 30_000 });
    if (tools.code !== 0) throw new StreamUnreachableError(from.machine, to.machine, 'ssh, ssh-keygen or mkfifo is missing there');
    [sourceDir, targetDir] = await Promise.all([privateWorkDir(from, temp, 'lifeboat-stream'), privateWorkDir(to, temp, 'lifeboat-stream')]);
    const receiver = `${targetDir}/receive`;
    const hostKeyPath = route.hostKeyPath ?? DEFAULT_HOST_KEY;
    const [made, hostKey] = await Promise.all([
      run(from, `ssh-keygen -q -t ed25519 -N '' -C ${shq(markerOf(nonce))} -f ${shq(`${sourceDir}/key`)} && cat -- ${shq(`${sourceDir}/key.pub`)}`, 'make the copy key'),
      // No key to pin, no direct route: nothing was sent yet, so the caller may relay.
      run(to, `cat -- ${shq(hostKeyPath)}`, 'read the host key').catch((error: Error) => {
        throw new StreamUnreachableError(from.machine, to.machine, `no host key of ${to.machine} to pin (${hostKeyPath}: ${error.message})`);
      }),
    ]);
    const [type, blob] = hostKey.trim().split(/\s+/);
    const host = route.port === 22 ? route.address : `[${route.address}]:${route.port}`;
    await Promise.all([
      from.writeFile(`${sourceDir}/known_hosts`, `${host} ${type} ${blob}\n`, { mode: 0o600, backup: false }),
      to.writeFile(receiver, receiverScript(part), { mode: 0o700, backup: false }),
    ]);
    await run(to, `mkdir -p -- ${shq(posix.dirname(toPath))}`, 'make the target folder');
    keyAdded = true;
    await run(to, bash(authorizedKeysEdit(streamKeyLine(made, route.sourceAddress, receiver, nonce), nonce)), 'authorize the copy key');
    const r = await from.run(bash(senderScript(sourceDir, fromPath, route)), { timeoutMs });
    if (r.code !== 0) throw new RemoteError('io-failed', from.machine, `sending ${describeSource(fromPath)} failed: ${r.stderr.trim().slice(-300)}`);
    const report = parseSenderReport(r.stdout);
    const why = r.stderr.replace(/\r/g, '').trim().split('\n').filter(Boolean).slice(-2).join('; ');
    if (unreachable(report, r.stderr)) throw new StreamUnreachableError(from.machine, `${to.machine} (${route.address}:${route.port})`, why || 'ssh exit 255');
    if (report.rc !== 0) throw new RemoteError('io-failed', from.machine, `copy of ${describeSource(fromPath)} to ${to.machine} ended with exit ${report.rc}${why ? `: ${why}` : ''}`);
    if (!SHA256.test(report.sent) || !SHA256.test(report.received)) throw new RemoteError('io-failed', from.machine, `copy of ${describeSource(fromPath)} to ${to.machine}: no checksum from ${SHA256.test(report.sent) ? to.machine : from.machine}`);
    if (report.sent !== report.received) throw new RemoteError('io-failed', to.machine, `${toPath} arrived with sha256 ${report.received}, ${from.machine} sent ${report.sent}`);
    if (options.expectSha256 !== undefined && report.sent !== options.expectSha256) throw new RemoteError('io-failed', from.machine, `${describeSource(fromPath)} has sha256 ${report.sent}, expected ${options.expectSha256}`);
    const size = Number((await run(to, `stat -c %s -- ${shq(part)}`, 'read the copy size')).trim());
    // A file's size is read where it lies; a command's output has only its sum to go by.
    if (typeof fromPath === 'string' && size !== report.bytes) throw new RemoteError('io-failed', to.machine, `${toPath} arrived with ${size} bytes, ${from.machine} holds ${report.bytes}`);
    await run(to, `mv -f -- ${shq(part)} ${shq(toPath)}`, 'put the copy in place');
    return { sha256: report.sent, bytes: size, ms: Math.round(performance.now() - started) };
  } finally {
    // Always taken back, whatever happened: the copy's key, its part, both work folders.
    const cleanups: Promise<unknown>[] = [];
    if (sourceDir) cleanups.push(from.run(`rm -rf -- ${shq(sourceDir)}`));
    if (targetDir) cleanups.push(to.run(`rm -rf -- ${shq(targetDir)} ${shq(part)}`));
    if (keyAdded) cleanups.push(run(to, bash(authorizedKeysEdit(undefined, nonce)), 'take the copy key back'));
    const settled = await Promise.allSettled(cleanups);
    const keyBack = keyAdded ? settled[settled.length - 1] : undefined;
    // A key line left behind would be a standing trust: the copy fails rather than pass.
    if (keyBack?.status === 'rejected') {
      throw new RemoteError('io-failed', to.machine, `could not take the copy key ${markerOf(nonce)} back out of authorized_keys (${(keyBack.reason as Error).message}): remove that line by hand`);
    }
  }
}

async function run(remote: Remote, command: string, what: string): Promise<string> {
  const r = await remote.run(command, { timeoutMs: 60_000 });
  if (r.code !== 0) throw new RemoteError('io-failed', remote.machine, `${what}: ${r.stderr.trim().slice(-300) || `exit ${r.code}`}`);
  return r.stdout;
}
