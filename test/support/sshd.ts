/**
 * A real OpenSSH server for tests: Debian's /usr/sbin/sshd on 127.0.0.1 at a free high port,
 * with a throwaway host key and client key made by ssh-keygen in a temp folder. Everything it
 * needs lives in that folder; `stop()` kills the daemon and its sessions by pid and removes it.
 *
 *   const sshd = await startSshd();
 *   try { ... sshRemoteTo(sshd, 'x').run('true') ... }
 *   finally { await sshd.stop(); }
 */
import { spawn, type ChildProcess, execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SshRemote, type SshRemoteOptions } from '../../src/remote/ssh.ts';

const run = promisify(execFile);

/** An SshRemote logged in to `sshd` with its client key, checking its host key strictly. */
export function sshRemoteTo(sshd: Sshd, machine: string, overrides: Partial<SshRemoteOptions> = {}): SshRemote {
  return new SshRemote({
    machine,
    host: sshd.host,
    port: sshd.port,
    knownHostsFile: sshd.knownHostsFile,
    privateKey: () => readFile(sshd.identityFile),
    ...overrides,
  });
}

export type HostKeyType = 'ed25519' | 'ecdsa' | 'rsa';

export interface Sshd {
  host: '127.0.0.1';
  port: number;
  /** The temp folder holding keys, config and logs. */
  dir: string;
  /** A known_hosts file listing the current host key as `[127.0.0.1]:port`. */
  knownHostsFile: string;
  /** Private key accepted for root (OpenSSH format, no passphrase). */
  identityFile: string;
  /** `SHA256:…` of the current host key, as `ssh-keygen -lf` prints it. */
  hostKeyFingerprint(): string;
  /** Everything sshd wrote to stderr so far (`-e`): logins, errors. */
  log(): string;
  /** Stops and starts the daemon on the same port; `newHostKey` makes it a "reinstalled" machine. */
  restart(options?: { newHostKey?: boolean; hostKeyType?: HostKeyType }): Promise<void>;
  /** Kills the per-connection sshd processes, which drops every open SSH connection. */
  dropConnections(): Promise<void>;
  /** SIGSTOPs the per-connection processes: open connections go silent, like a hung machine. */
  freezeConnections(): Promise<void>;
  stop(): Promise<void>;
}

export interface StartSshdOptions {
  hostKeyType?: HostKeyType;
}

export async function startSshd(options: StartSshdOptions = {}): Promise<Sshd> {
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const dir = await mkdtemp(join(tmpdir(), 'lifeboat-sshd-'));
  try {
    return await startIn(dir, options);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

async function startIn(dir: string, options: StartSshdOptions): Promise<Sshd> {
  const identityFile = join(dir, 'client_ed25519');
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'lifeboat-test-client', '-f', identityFile]);
  await writeFile(join(dir, 'authorized_keys'), await readFile(`${identityFile}.pub`));
  const knownHostsFile = join(dir, 'known_hosts');

  let hostKeyGeneration = 0;
  let hostKey = '';
  let fingerprint = '';
  async function newHostKey(type: HostKeyType): Promise<void> {
    hostKeyGeneration++;
    hostKey = join(dir, `host_${type}_${hostKeyGeneration}`);
    await run('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', `lifeboat-test-host-${hostKeyGeneration}`, '-f', hostKey]);
    fingerprint = (await run('ssh-keygen', ['-lf', `${hostKey}.pub`])).stdout.split(' ')[1] ?? '';
  }
  await newHostKey(options.hostKeyType ?? 'ed25519');

  let port = 0;
  let daemon: ChildProcess | undefined;
  let output = '';
  // Finding a free port and binding it is racy with other engineers' tests: retry a few times.
  for (let attempt = 0; attempt < 5 && !daemon; attempt++) {
    port = await freePort();
    try {
      daemon = await launch(dir, port, hostKey, (text) => (output += text));
    } catch (error) {
      if (attempt === 4) throw error;
    }
  }
  const [type, blob] = (await readFile(`${hostKey}.pub`, 'utf8')).split(' ');
  await writeFile(knownHostsFile, `[127.0.0.1]:${port} ${type} ${blob}\n`);

  const sshd: Sshd = {
    host: '127.0.0.1',
    port,
    dir,
    knownHostsFile,
    identityFile,
    hostKeyFingerprint: () => fingerprint,
    log: () => output,
    async restart(restartOptions = {}) {
      await stopDaemon(daemon);
      if (restartOptions.newHostKey) await newHostKey(restartOptions.hostKeyType ?? options.hostKeyType ?? 'ed25519');
      daemon = await launch(dir, port, hostKey, (text) => (output += text));
    },
    async dropConnections() {
      if (daemon?.pid) await signalDescendants(daemon.pid, 'SIGKILL');
    },
    async freezeConnections() {
      if (daemon?.pid) await signalDescendants(daemon.pid, 'SIGSTOP');
    },
    async stop() {
      await stopDaemon(daemon);
      daemon = undefined;
      await rm(dir, { recursive: true, force: true });
    },
  };
  return sshd;
}

async function launch(dir: string, port: number, hostKey: string, onOutput: (text: string) => void): Promise<ChildProcess> {
  const config = join(dir, 'sshd_config');
  await writeFile(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'PermitRootLogin prohibit-password',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'UseDNS no',
      'MaxStartups 50',
      'LogLevel INFO',
      'Subsystem sftp internal-sftp',
      // bash sources ~/.bashrc for every SSH command when SHLVL says it is the first shell;
      // this machine's /root/.bashrc runs `pyenv init` (~0.4 s), which would swamp every
      // timing. SHLVL=1 makes the login shell level 2 and skips it; lab hosts have their own root.
      'SetEnv SHLVL=1',
      '',
    ].join('\n'),
  );
  const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  // If the test process dies without calling stop(), do not leave a listening daemon behind.
  const onExit = () => child.kill('SIGKILL');
  process.once('exit', onExit);
  child.once('exit', () => process.removeListener('exit', onExit));
  let seen = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`sshd did not start listening within 5 s:\n${seen}`));
    }, 5000);
    child.stderr?.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      seen += text;
      onOutput(text);
      if (seen.includes(`Server listening on 127.0.0.1 port ${port}`)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`sshd exited (${code ?? signal}) before listening:\n${seen}`));
    });
  });
  return child;
}

async function stopDaemon(child: ChildProcess | undefined): Promise<void> {
  if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
  const pid = child.pid;
  await signalDescendants(pid, 'SIGKILL');
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

/** Signals every descendant of `pid` (sshd's per-connection processes and their sessions), found in /proc. */
async function signalDescendants(pid: number, signal: NodeJS.Signals): Promise<void> {
  const parents = new Map<number, number>();
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    // Field 4 (ppid) follows the parenthesised command name, which may contain spaces.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    parents.set(Number(name), ppid);
  }
  const descendants: number[] = [];
  let frontier = [pid];
  // Bounded: a process tree cannot be deeper than the number of processes.
  for (let depth = 0; depth < parents.size && frontier.length > 0; depth++) {
    frontier = [...parents].filter(([, ppid]) => frontier.includes(ppid)).map(([child]) => child);
    descendants.push(...frontier);
  }
  for (const child of descendants) {
    try {
      process.kill(child, signal);
    } catch {
      // Already gone.
    }
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
