/**
 * From the fleet file to connections: `remoteFor` turns a machine's ssh settings into an
 * `SshRemote`, and `RemotePool` hands out one Remote per machine for a whole run (so every
 * action on a machine shares one SSH connection) and closes them all at the end.
 */
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { SecretResolver } from '../fleet/secrets.ts';
import type { Fleet } from '../fleet/schema.ts';
import { RemoteError, type Remote } from './remote.ts';
import { SshRemote } from './ssh.ts';

export interface RemoteForOptions {
  /** Resolves `ssh.identity` (a secret reference) when the first connection is made. */
  secret: SecretResolver;
  /** Explicit opt-in to append unknown host keys to known_hosts; changed keys stay refused. */
  acceptNewHostKeys?: boolean;
  /** Home folder that `~` in `ssh.knownHosts` stands for; default the operator's home. */
  homeDir?: string;
  /** Folder that a relative `ssh.knownHosts` is relative to (the fleet file's folder). */
  baseDir?: string;
  /** ssh-agent socket used for machines without `ssh.identity`. */
  agent?: string;
  /** Where one-line notices (a host key was added) go; default stderr. */
  notice?: (line: string) => void;
}

/** Where a fleet machine's sshd is and which known_hosts file vouches for it: fleet-wide `ssh` settings overridden by the machine's own. */
export function sshTargetOf(fleet: Fleet, machineName: string, options: Pick<RemoteForOptions, 'homeDir' | 'baseDir'> = {}) {
  const machine = fleet.machines.find((m) => m.name === machineName);
  if (!machine) {
    const known = fleet.machines.map((m) => m.name).join(', ');
    throw new RemoteError('unknown-machine', machineName, `no machine of that name in fleet ${fleet.name} (machines: ${known})`);
  }
  const ssh = { ...fleet.ssh, ...machine.ssh };
  return {
    machine: machine.name,
    host: machine.address,
    port: ssh.port,
    ssh,
    knownHostsFile: expandHome(ssh.knownHosts, options.homeDir ?? homedir(), options.baseDir ?? process.cwd()),
  };
}

/** An `SshRemote` for a fleet machine. */
export function remoteFor(fleet: Fleet, machineName: string, options: RemoteForOptions & { jump?: SshRemote }): SshRemote {
  const { machine, host, port, ssh, knownHostsFile } = sshTargetOf(fleet, machineName, options);
  const identity = ssh.identity;
  return new SshRemote({
    machine,
    host,
    port,
    user: ssh.user,
    knownHostsFile,
    connectTimeoutMs: ssh.connectTimeoutMs,
    acceptNewHostKeys: options.acceptNewHostKeys ?? false,
    ...(identity ? { privateKey: () => options.secret(identity) } : {}),
    ...(options.agent ? { agent: options.agent } : {}),
    ...(options.notice ? { notice: options.notice } : {}),
    ...(options.jump ? { jump: options.jump } : {}),
  });
}

/** `~` and `~/x` point into `home`; other relative paths are taken from `baseDir`. */
export function expandHome(path: string, home: string, baseDir: string): string {
  if (path === '~') return home;
  if (path.startsWith('~/')) return join(home, path.slice(2));
  return isAbsolute(path) ? path : resolve(baseDir, path);
}

/** One Remote per machine name, made on first request; `closeAll` ends every connection. */
export class RemotePool {
  private readonly remotes = new Map<string, Remote>();

  constructor(
    private readonly make: (machine: string) => Remote,
    private readonly makeVia?: (machine: string, via: Remote) => Remote,
  ) {}

  /** A pool of `SshRemote`s for the machines of `fleet`; `via` jumps through another one. */
  static forFleet(fleet: Fleet, options: RemoteForOptions): RemotePool {
    return new RemotePool(
      (machine) => remoteFor(fleet, machine, options),
      (machine, via) => remoteFor(fleet, machine, { ...options, ...(via instanceof SshRemote ? { jump: via } : {}) }),
    );
  }

  /**
   * The machine reached through `via` (an SSH jump), for when the operator's own path to it
   * is cut but another machine still sees it (fencing). Undefined when this pool cannot jump.
   */
  via(machine: string, via: string): Remote | undefined {
    if (!this.makeVia) return undefined;
    const key = `${machine}\u0000via\u0000${via}`;
    let remote = this.remotes.get(key);
    if (!remote) {
      remote = this.makeVia(machine, this.get(via));
      this.remotes.set(key, remote);
    }
    return remote;
  }

  /** The machine's Remote; connecting happens lazily on its first command. */
  get(machine: string): Remote {
    let remote = this.remotes.get(machine);
    if (!remote) {
      remote = this.make(machine);
      this.remotes.set(machine, remote);
    }
    return remote;
  }

  /** Machines that were handed out so far (jumped connections not counted). */
  machines(): string[] {
    return [...this.remotes.keys()].filter((k) => !k.includes('\u0000'));
  }

  /** Closes every Remote; a failure to close one does not keep the others open. */
  async closeAll(): Promise<void> {
    const remotes = [...this.remotes.values()];
    this.remotes.clear();
    await Promise.allSettled(remotes.map((r) => r.close()));
  }
}
