/** A server a test starts in the foreground: its output kept, ready once a line appears, stopped by its pid. */
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';

export interface Daemon {
  /** Everything it printed so far (stdout and stderr). */
  log(): string;
  /** SIGTERM to the process the test started, then its exit awaited. */
  stop(): Promise<void>;
}

/** `workDir`: the daemon's own folder, removed when it stops (or fails to start). */
export async function startDaemon(command: string, args: string[], ready: RegExp, options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; workDir?: string } = {}): Promise<Daemon> {
  const child = spawn(command, args, { env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (c: Buffer) => { log += c.toString(); });
  child.stderr.on('data', (c: Buffer) => { log += c.toString(); });
  const daemon: Daemon = {
    log: () => log,
    stop: async () => {
      if (child.pid && child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
      if (options.workDir) await rm(options.workDir, { recursive: true, force: true });
    },
  };
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  while (!ready.test(log) && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
  if (!ready.test(log)) {
    await daemon.stop();
    throw new Error(`${command} did not start: ${log.slice(-1500)}`);
  }
  return daemon;
}
