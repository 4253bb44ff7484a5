/**
 * The host key a machine's sshd offers, read from the first packets of a handshake that is
 * then abandoned (nothing is authenticated, nothing is sent). The algorithms asked for are
 * the ones a connection would ask for, so this is the key lifeboat would be shown.
 */
import { Client, type ConnectConfig } from 'ssh2';
import { preferredHostKeyAlgorithms, type KnownHostEntry } from './known-hosts.ts';
import { RemoteError } from './remote.ts';

export async function offeredHostKey(o: { machine: string; host: string; port: number; entries: readonly KnownHostEntry[]; timeoutMs: number }): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const client = new Client();
    let key: Buffer | undefined;
    const done = (error?: Error) => {
      client.removeAllListeners();
      client.on('error', () => undefined);
      client.end();
      if (key) resolve(key);
      else reject(error ?? new RemoteError('connect-failed', o.machine, `${o.host}:${o.port} offered no host key`));
    };
    client.on('error', (error: Error) => done(new RemoteError('connect-failed', o.machine, `${o.host}:${o.port}: ${error.message}`, { cause: error })));
    client.on('close', () => done());
    const config: ConnectConfig = {
      host: o.host,
      port: o.port,
      username: 'lifeboat-host-key-scan',
      readyTimeout: o.timeoutMs,
      algorithms: { serverHostKey: preferredHostKeyAlgorithms(o.entries, o.host, o.port) as never },
      hostVerifier: (offered: Buffer) => {
        key = Buffer.from(offered);
        // Refused on purpose: the key was all we came for.
        return false;
      },
    };
    client.connect(config);
  });
}
