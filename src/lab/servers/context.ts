/**
 * What a lab server module gets to set up one host: where the host's folders are on the
 * machine (written before the host starts, with plain fs calls) and a way to run commands
 * inside the host once it runs.
 */
import type { Fleet } from '../../fleet/schema.ts';
import type { RunOptions, RunResult } from '../../remote/remote.ts';
import { LabError } from '../errors.ts';
import type { FaultSpec } from '../fault-kinds.ts';
import type { LabPaths } from '../paths.ts';
import type { LabHost, LabPlan } from '../plan.ts';

export interface LabSecrets {
  dbAdminPassword: string;
  dbAppPassword: string;
  dbReplicationPassword: string;
  redisPassword?: string;
  dnsUpdateKey: string;
}

export interface HostContext {
  plan: LabPlan;
  fleet: Fleet;
  host: LabHost;
  paths: LabPaths;
  /** The host's disk on the machine (`hosts/<name>`); `dir('etc-nginx')` → its /etc/nginx. */
  dir: string;
  /** The lifeboat repository on the machine (the same tree is `/lifeboat` in the host). */
  repoDir: string;
  secrets: LabSecrets;
  /** Faults in force: a server's configuration must not undo one (a poisoned DNS answer). */
  faults: readonly FaultSpec[];
  exec(command: string, options?: RunOptions): Promise<RunResult>;
}

/**
 * One kind of server the lab runs in some hosts. `configure` writes files from the machine
 * before the host starts; `start` runs inside the running host and returns once the server
 * answers. Both are idempotent: a second `lab up` repairs instead of duplicating.
 */
export interface LabServer {
  readonly name: string;
  wants(host: LabHost, plan: LabPlan, fleet: Fleet): boolean;
  configure(ctx: HostContext): Promise<void>;
  /** True when the server's process is alive in the host. */
  running(ctx: HostContext): Promise<boolean>;
  start(ctx: HostContext): Promise<void>;
  /** For a server already running when `lab up` runs again: apply what `configure` changed. */
  refresh?(ctx: HostContext): Promise<void>;
  /** Stops the server in a way that looks like a crash or a clean stop, for faults. */
  stop?(ctx: HostContext, how: 'crash' | 'clean'): Promise<void>;
}

/** Shell snippet: true when the pid in `file` is a live process of this host. */
export function pidAlive(file: string): string {
  return `p=$(cat ${file} 2>/dev/null) && [ -n "$p" ] && kill -0 "$p" 2>/dev/null`;
}

/**
 * Shell snippet waiting (bounded) until `address:port` accepts TCP connections. Polling
 * runs inside the host so each try costs no nsenter.
 */
export function waitTcp(address: string, port: number, timeoutMs = 15_000): string {
  const tries = Math.ceil(timeoutMs / 50);
  return `i=0; until timeout 1 bash -c '</dev/tcp/${address}/${port}' 2>/dev/null; do i=$((i+1)); [ $i -ge ${tries} ] && { echo "nothing answers on ${address}:${port}" >&2; exit 1; }; sleep 0.05; done`;
}

export async function execChecked(ctx: HostContext, command: string, options?: RunOptions): Promise<RunResult> {
  const result = await ctx.exec(command, options);
  if (result.code !== 0) {
    const tail = (result.stderr || result.stdout).trim().split('\n').slice(-3).join(' | ');
    throw new LabError('command-failed', `${ctx.host.name}: \`${command.slice(0, 120)}\` exited ${result.code ?? result.signal}${tail ? `: ${tail}` : ''}`);
  }
  return result;
}
