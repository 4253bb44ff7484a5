/**
 * Debian's Pebble (the ACME test server Let's Encrypt publishes) on 127.0.0.1, its DNS-01
 * checks asked of a given DNS server (the test's BIND). Its own HTTPS uses a certificate made
 * here; its issuing root is read from its management port. Started for a test, stopped by pid.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { Agent, get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './bind.ts';
import { startDaemon } from './daemon.ts';

export const pebbleSkip = existsSync('/usr/bin/pebble') ? false : "needs Debian's pebble (scripts/prerequisites.sh installs it)";

export interface Pebble {
  directoryUrl: string;
  /** The certificate of Pebble's own HTTPS: what the ACME client must trust. */
  serverCa: string;
  /** The root Pebble issues certificates under (new at every start). */
  root(): Promise<string>;
  /** Certificates it issued since it started, from its log. */
  issuedCount(): number;
  stop(): Promise<void>;
}

export async function startPebble(dnsServer: string): Promise<Pebble> {
  const dir = await mkdtemp(join(tmpdir(), 'lifeboat-pebble-'));
  await promisify(execFile)('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', '/CN=pebble',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')]);
  const [port, management] = [await freePort(), await freePort()];
  await writeFile(join(dir, 'pebble.json'), JSON.stringify({
    pebble: {
      listenAddress: `127.0.0.1:${port}`, managementListenAddress: `127.0.0.1:${management}`,
      certificate: join(dir, 'cert.pem'), privateKey: join(dir, 'key.pem'),
      httpPort: await freePort(), tlsPort: await freePort(), ocspResponderURL: '', externalAccountBindingRequired: false,
    },
  }));
  // No random sleep before validating, no nonces refused at random: a test waits for nothing.
  const pebble = await startDaemon('/usr/bin/pebble', ['-config', join(dir, 'pebble.json'), '-dnsserver', dnsServer], /Listening on/, {
    env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0' }, workDir: dir,
  });
  const serverCa = await readFile(join(dir, 'cert.pem'), 'utf8');
  const agent = new Agent({ ca: serverCa });
  return {
    directoryUrl: `https://127.0.0.1:${port}/dir`,
    serverCa,
    root: () => new Promise((resolve, reject) => {
      get(`https://127.0.0.1:${management}/roots/0`, { agent }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => { body += c.toString(); });
        res.on('end', () => resolve(body));
      }).on('error', reject);
    }),
    issuedCount: () => (pebble.log().match(/Issued certificate serial/g) ?? []).length,
    stop: pebble.stop,
  };
}
