/**
 * Moves one file from a machine of the fleet to another. By default straight between them
 * (`remote/stream.ts`: an SSH pipe from the source to the target with a key made for that
 * copy alone, checksummed on both ends), so a dump of a few GB never crosses the operator's
 * line. Relayed through the operator (a private temp folder on its disk: one download, one
 * upload) only when the fleet says the target cannot be reached from other machines
 * (`ssh.machineToMachine: false`) or when the source turns out unable to open SSH to it:
 * then nothing had been sent, and the relay says so in the log.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sshSettingsFor } from '../../fleet/model.ts';
import type { Remote } from '../../remote/remote.ts';
import { streamFile, StreamUnreachableError, type StreamRoute } from '../../remote/stream.ts';
import type { ActionContext } from '../action.ts';

export interface MoveOptions {
  /** The sha256 the file must arrive with (a manifest's, a sidecar's): checked on both ends of a stream; a relayed file is the caller's to check where it lands. */
  expectSha256?: string;
  /** Where a relayed copy waits on the operator's machine. Default the OS temp folder. */
  localTempDir?: string;
  timeoutMs?: number;
}

export interface Moved {
  route: 'direct' | 'relayed';
  ms: number;
}

/** How `from` reaches `to` directly, or undefined when the fleet says it cannot. */
export function directRoute(ctx: ActionContext, from: string, to: string): StreamRoute | undefined {
  // A machine outside the fleet (the operator's own, in tests) has no address to dial.
  const source = ctx.fleet.machines.find((m) => m.name === from);
  const target = ctx.fleet.machines.find((m) => m.name === to);
  if (!source || !target || from === to) return undefined;
  const ssh = sshSettingsFor(ctx.fleet, target);
  if (ssh.machineToMachine === false) return undefined;
  return { address: target.address, port: ssh.port, user: ssh.user, sourceAddress: source.address };
}

export async function moveFile(ctx: ActionContext, from: string, fromPath: string, to: string, toPath: string, options: MoveOptions = {}): Promise<Moved> {
  const started = performance.now();
  const route = directRoute(ctx, from, to);
  if (route) {
    try {
      const r = await streamFile(ctx.remote(from), fromPath, ctx.remote(to), toPath, route, { expectSha256: options.expectSha256, timeoutMs: options.timeoutMs, log: (m) => ctx.log(m) });
      ctx.log(`${from} → ${to}: ${toPath} streamed directly (${r.bytes} bytes in ${(r.ms / 1000).toFixed(1)} s, sha256 ${r.sha256.slice(0, 16)}… on both ends)`);
      return { route: 'direct', ms: r.ms };
    } catch (error) {
      if (!(error instanceof StreamUnreachableError)) throw error;
      ctx.log(`${error.message}; relaying ${fromPath} through this machine instead (set ssh.machineToMachine: false on ${to} to skip the attempt)`);
    }
  }
  // Relayed, the file is checked where it lands, by the caller, as before streams existed.
  await relayFile(ctx.remote(from), fromPath, ctx.remote(to), toPath, options.localTempDir);
  return { route: 'relayed', ms: Math.round(performance.now() - started) };
}

/** Through the operator's disk: one download, one upload, the temp copy removed. */
export async function relayFile(from: Remote, fromPath: string, to: Remote, toPath: string, localTempDir = tmpdir()): Promise<void> {
  const dir = await mkdtemp(join(localTempDir, 'lifeboat-relay-'));
  try {
    const local = join(dir, 'payload');
    await from.download(fromPath, local);
    await to.upload(local, toPath);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
