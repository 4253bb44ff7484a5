/**
 * A machine reached over SSH with the `ssh2` library. One connection per machine carries every
 * command and file transfer (a fresh handshake costs ~0.4 s, a command on an open connection
 * ~0.06 s: LAB-NOTES), opened on first use and reopened after a drop. Host keys are checked
 * strictly against known_hosts before any credential is sent.
 */
import { Client, type ClientChannel, type ConnectConfig, type SFTPWrapper } from 'ssh2';
import { Limiter } from './fanout.ts';
import { judgeHostKey } from './host-key-policy.ts';
import { loadKnownHosts, preferredHostKeyAlgorithms } from './known-hosts.ts';
import { brief } from './brief.ts';
import {
  RemoteError,
  RemoteTimeoutError,
  type Remote,
  type RunOptions,
  type RunResult,
  type WriteOptions,
  type WriteResult,
} from './remote.ts';
import { Sftp } from './sftp-files.ts';
import { collectRun, execChannel, isChannelRefused, NotConnected, sleep, wrapCommand } from './ssh-command.ts';

export interface SshRemoteOptions {
  /** Machine name from the fleet file, used in errors. */
  machine: string;
  host: string;
  port?: number;
  user?: string;
  /** Private key text, or a function producing it when the first connection is made. */
  privateKey?: string | Buffer | (() => Promise<string | Buffer>);
  /** Path of an ssh-agent socket, used when there is no private key. */
  agent?: string;
  /** The OpenSSH known_hosts file to check the host key against (an absolute path). */
  knownHostsFile: string;
  /** Append unknown host keys to known_hosts instead of refusing. Changed keys are always refused. */
  acceptNewHostKeys?: boolean;
  /** TCP connect + handshake + login must finish within this (default 5000 ms). */
  connectTimeoutMs?: number;
  /** Keep-alive probes every this many ms (default 10000); 3 unanswered probes drop the connection. */
  keepaliveIntervalMs?: number;
  /** Channels open at once on the connection; sshd's MaxSessions defaults to 10, one goes to SFTP. */
  maxChannels?: number;
  /** Where one-line notices go (a host key was added); default stderr. */
  notice?: (line: string) => void;
  /**
   * Reach the machine through another one (an SSH jump, like `ssh -J`): the TCP connection is
   * opened from `jump`'s side, and this machine's own host key is still checked here.
   */
  jump?: SshRemote;
}

interface Connection {
  ready: Promise<Client>;
  sftp?: Promise<Sftp>;
  /** Set when the socket closed; a closed connection is never handed out again. */
  closed: boolean;
}

export class SshRemote implements Remote {
  readonly machine: string;
  /** Counters for tests and diagnostics: how many SSH connections were established. */
  readonly stats = { connects: 0 };
  private connection: Connection | undefined;
  private readonly channels: Limiter;

  constructor(private readonly options: SshRemoteOptions) {
    this.machine = options.machine;
    this.channels = new Limiter(options.maxChannels ?? 8);
  }

  get address(): string {
    return `${this.options.host}:${this.options.port ?? 22}`;
  }

  async run(command: string, options: RunOptions = {}): Promise<RunResult> {
    const wrapped = wrapCommand(command, options);
    return this.channels.run(async () => {
      const started = await this.startCommand(wrapped, command, (channel) => collectRun(channel, { machine: this.machine, address: this.address, command, options }), options.timeoutMs);
      return started.result;
    });
  }

  /**
   * Opens an exec channel and hands it to `collect` synchronously: ssh2 may deliver the
   * output and exit status in the same tick as the channel, before any `await` resumes.
   * When the cached connection turns out to be dead before the command started (a drop not
   * noticed yet), the command cannot have run, so one retry on a fresh connection is safe;
   * once a command has started it is never sent twice.
   */
  private async startCommand<T>(wrapped: string, command: string, collect: (channel: ClientChannel) => T, openWithinMs?: number): Promise<{ result: T }> {
    let refusals = 0;
    for (let attempt = 1; ; attempt++) {
      const connection = await this.currentConnection();
      const client = await connection.ready;
      try {
        return await this.openChannel(connection, client, wrapped, command, collect, openWithinMs);
      } catch (cause) {
        if (cause instanceof RemoteTimeoutError) throw cause;
        // sshd frees a session slot a little after the channel closed, so under load it can
        // briefly refuse a new one ("no more sessions") though we stay under MaxSessions.
        if (!connection.closed && isChannelRefused(cause) && refusals < 6) {
          await sleep(25 * 2 ** refusals++);
          attempt--;
          continue;
        }
        if (!connection.closed && !(cause instanceof NotConnected)) {
          throw new RemoteError('io-failed', this.machine, `could not start \`${brief(command)}\``, { cause });
        }
        this.forget(connection);
        client.end();
        if (attempt >= 2) {
          throw new RemoteError('connect-failed', this.machine, `connection to ${this.address} lost before \`${brief(command)}\` started`, { cause });
        }
      }
    }
  }

  /**
   * On a connection whose peer died silently, a channel request waits until keep-alive gives
   * up (30 s): a command with a time-out would overrun it before its own timer even starts.
   * Past the time-out the connection is taken for lost and ended (which also ends a session
   * that might have opened meanwhile); whether the command ran is unknown: a time-out.
   */
  private async openChannel<T>(connection: Connection, client: Client, wrapped: string, command: string, collect: (channel: ClientChannel) => T, withinMs?: number): Promise<{ result: T }> {
    const opened = execChannel(client, wrapped, collect);
    if (withinMs === undefined) return opened;
    opened.catch(() => undefined); // after the time-out, the connection's end is not news
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.forget(connection);
        client.end();
        reject(new RemoteTimeoutError(this.machine, `opening a session for \`${brief(command)}\` on the connection to ${this.address}`, withinMs));
      }, withinMs);
    });
    try {
      return await Promise.race([opened, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** A TCP stream to host:port opened from this machine's side (what a jump needs). */
  async tunnel(host: string, port: number): Promise<ClientChannel> {
    const client = await this.connect();
    return new Promise((resolve, reject) => {
      client.forwardOut('127.0.0.1', 0, host, port, (err, stream) => {
        if (err) reject(new RemoteError('connect-failed', this.machine, `cannot open a connection from ${this.machine} to ${host}:${port}: ${err.message}`, { cause: err }));
        else resolve(stream);
      });
    });
  }

  async readFile(path: string): Promise<Buffer> {
    return (await this.sftp()).readFile(path);
  }

  async writeFile(path: string, content: string | Buffer, options: WriteOptions = {}): Promise<WriteResult> {
    const data = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    return (await this.sftp()).writeFile(path, data, options);
  }

  async upload(localPath: string, remotePath: string): Promise<void> {
    await (await this.sftp()).upload(localPath, remotePath);
  }

  async download(remotePath: string, localPath: string): Promise<void> {
    await (await this.sftp()).download(remotePath, localPath);
  }

  async close(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    if (!connection) return;
    const client = await connection.ready.catch(() => undefined);
    if (!client) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2000);
      client.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      client.end();
    });
  }

  /** The open connection, or a new one; concurrent callers share one handshake. */
  private connect(): Promise<Client> {
    return this.currentConnection().then((c) => c.ready);
  }

  private async currentConnection(): Promise<Connection> {
    if (!this.connection) {
      const connection: Connection = {
        closed: false,
        ready: this.open(() => {
          connection.closed = true;
          this.forget(connection);
        }),
      };
      this.connection = connection;
      connection.ready.catch(() => this.forget(connection));
    }
    return this.connection;
  }

  private forget(connection: Connection): void {
    if (this.connection === connection) this.connection = undefined;
  }

  /** The connection's SFTP session, opened once; retried once if the connection was dead. */
  private async sftp(): Promise<Sftp> {
    let refusals = 0;
    for (let attempt = 1; ; attempt++) {
      const connection = await this.currentConnection();
      try {
        return await this.sftpOn(connection);
      } catch (error) {
        if (!connection.closed && error instanceof RemoteError && isChannelRefused(error.cause) && refusals < 6) {
          await sleep(25 * 2 ** refusals++);
          attempt--;
          continue;
        }
        if (!connection.closed || attempt >= 2) throw error;
      }
    }
  }

  private sftpOn(connection: Connection): Promise<Sftp> {
    if (!connection.sftp) {
      const session = connection.ready.then(
        (client) =>
          new Promise<Sftp>((resolve, reject) => {
            const done = (err: Error | undefined, sftp: SFTPWrapper) => {
              if (err) {
                reject(new RemoteError('io-failed', this.machine, `SFTP is not available on ${this.address}`, { cause: err }));
                return;
              }
              sftp.on('close', () => {
                if (connection.sftp === session) connection.sftp = undefined;
              });
              resolve(new Sftp(sftp, this.machine));
            };
            try {
              client.sftp(done);
            } catch (cause) {
              // The socket is already gone: same as a close we have not been told about yet.
              connection.closed = true;
              this.forget(connection);
              client.end();
              reject(new RemoteError('connect-failed', this.machine, `connection to ${this.address} lost`, { cause }));
            }
          }),
      );
      connection.sftp = session;
      session.catch(() => {
        if (connection.sftp === session) connection.sftp = undefined;
      });
    }
    return connection.sftp;
  }

  private async open(onClose: () => void): Promise<Client> {
    const { host, machine, knownHostsFile } = this.options;
    const port = this.options.port ?? 22;
    const timeoutMs = this.options.connectTimeoutMs ?? 5000;
    const entries = await loadKnownHosts(knownHostsFile).catch((cause) => {
      throw new RemoteError('io-failed', machine, `cannot read known_hosts file ${knownHostsFile}`, { cause });
    });
    const privateKey = await this.privateKey();
    if (privateKey === undefined && !this.options.agent) {
      throw new RemoteError('auth-failed', machine, `no SSH identity configured for ${this.address} (set ssh.identity in the fleet file)`);
    }
    const sock = this.options.jump ? await this.options.jump.tunnel(host, port) : undefined;

    return new Promise<Client>((resolve, reject) => {
      const client = new Client();
      let ready = false;
      let refusal: RemoteError | undefined;
      const config: ConnectConfig = {
        host,
        port,
        username: this.options.user ?? 'root',
        readyTimeout: timeoutMs,
        keepaliveInterval: this.options.keepaliveIntervalMs ?? 10_000,
        keepaliveCountMax: 3,
        algorithms: { serverHostKey: preferredHostKeyAlgorithms(entries, host, port) as never },
        hostVerifier: (key: Buffer, verify: (valid: boolean) => void) => {
          judgeHostKey(
            {
              machine,
              host,
              port,
              knownHostsFile,
              entries,
              acceptNewHostKeys: this.options.acceptNewHostKeys ?? false,
              notice: this.options.notice ?? ((line) => process.stderr.write(`${line}\n`)),
            },
            key,
          ).then(
            (problem) => {
              refusal = problem;
              verify(problem === undefined);
            },
            (cause: unknown) => {
              refusal = new RemoteError('io-failed', machine, `could not record the host key in ${knownHostsFile}`, { cause });
              verify(false);
            },
          );
        },
        ...(privateKey !== undefined ? { privateKey } : {}),
        ...(sock ? { sock } : {}),
        ...(this.options.agent ? { agent: this.options.agent } : {}),
      };
      client.on('ready', () => {
        ready = true;
        this.stats.connects++;
        resolve(client);
      });
      client.on('error', (err: Error & { level?: string }) => {
        if (ready) return; // a drop after login: 'close' follows and the next call reconnects
        reject(refusal ?? connectError(machine, `${host}:${port}`, timeoutMs, err));
      });
      client.on('close', () => {
        onClose();
        if (!ready) reject(refusal ?? new RemoteError('connect-failed', machine, `${host}:${port} closed the connection during login`));
      });
      try {
        client.connect(config);
      } catch (cause) {
        // ssh2 throws synchronously on a key it cannot parse.
        reject(new RemoteError('auth-failed', machine, `the SSH identity for ${host}:${port} is not a usable private key`, { cause }));
      }
    });
  }

  private async privateKey(): Promise<string | Buffer | undefined> {
    const source = this.options.privateKey;
    if (typeof source !== 'function') return source;
    try {
      return await source();
    } catch (cause) {
      throw new RemoteError('auth-failed', this.machine, `cannot load the SSH identity: ${(cause as Error).message}`, { cause });
    }
  }
}

function connectError(machine: string, address: string, timeoutMs: number, err: Error & { level?: string }): RemoteError {
  switch (err.level) {
    case 'client-authentication':
      return new RemoteError('auth-failed', machine, `${address} refused the SSH identity (check ssh.user and ssh.identity)`, { cause: err });
    case 'client-timeout':
      return new RemoteError('connect-failed', machine, `no SSH login at ${address} within ${timeoutMs} ms`, { cause: err });
    default:
      return new RemoteError('connect-failed', machine, `cannot connect to ${address}: ${err.message}`, { cause: err });
  }
}
