/**
 * A real BIND (Debian's named) on 127.0.0.1 with one zone that takes dynamic updates signed
 * with one TSIG key; started for a test and stopped by its pid.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Rfc2136Config } from '../../src/dns/rfc2136.ts';
import { startDaemon } from './daemon.ts';

export const bindSkip = !existsSync('/usr/sbin/named') ? 'needs Debian\'s bind9 (named)' : process.getuid?.() !== 0 ? 'needs root (named)' : false;

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export interface Bind {
  port: number;
  /** The provider settings that update the zone. */
  config: Rfc2136Config;
  stop(): Promise<void>;
}

export async function startBind(zone: string): Promise<Bind> {
  const dir = await mkdtemp(join(tmpdir(), 'lifeboat-bind-'));
  const port = await freePort();
  const secret = randomBytes(32).toString('base64');
  await writeFile(join(dir, 'named.conf'), `
options { directory "${dir}"; pid-file "${dir}/named.pid"; listen-on port ${port} { 127.0.0.1; }; listen-on-v6 { none; }; recursion no; dnssec-validation no; };
key "lifeboat" { algorithm hmac-sha256; secret "${secret}"; };
zone "${zone}" { type primary; file "${dir}/db.zone"; allow-update { key "lifeboat"; }; };
`);
  await writeFile(join(dir, 'db.zone'), `$TTL 300\n@ IN SOA ns.${zone}. hostmaster.${zone}. 1 60 60 3600 60\n@ IN NS ns.${zone}.\nns IN A 127.0.0.1\n`);
  const named = await startDaemon('/usr/sbin/named', ['-g', '-c', join(dir, 'named.conf'), '-u', 'root'], /running/, { workDir: dir });
  return { port, config: { server: '127.0.0.1', port, zone, keyName: 'lifeboat', secret, timeoutMs: 4000 }, stop: named.stop };
}
