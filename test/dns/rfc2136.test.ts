/**
 * The RFC 2136 provider against a real BIND (Debian's named) on 127.0.0.1: a zone that takes
 * dynamic updates signed with one TSIG key. named is started here and stopped by its pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { Rfc2136Provider } from '../../src/dns/rfc2136.ts';
import { providerContract, type ContractTarget } from './provider.contract.ts';

const skip = !existsSync('/usr/sbin/named') ? 'needs Debian\'s bind9 (named)' : process.getuid?.() !== 0 ? 'needs root (named)' : false;
const ZONE = 'lab.example';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

describe('RFC 2136 with TSIG, against BIND', { skip }, () => {
  let dir: string;
  let named: ChildProcess | undefined;
  let target: ContractTarget;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeboat-bind-'));
    const port = await freePort();
    const secret = randomBytes(32).toString('base64');
    await writeFile(join(dir, 'named.conf'), `
options { directory "${dir}"; pid-file "${dir}/named.pid"; listen-on port ${port} { 127.0.0.1; }; listen-on-v6 { none; }; recursion no; dnssec-validation no; };
key "lifeboat" { algorithm hmac-sha256; secret "${secret}"; };
zone "${ZONE}" { type primary; file "${dir}/db.zone"; allow-update { key "lifeboat"; }; };
`);
    await writeFile(join(dir, 'db.zone'), `$TTL 300\n@ IN SOA ns.${ZONE}. hostmaster.${ZONE}. 1 60 60 3600 60\n@ IN NS ns.${ZONE}.\nns IN A 127.0.0.1\n`);
    named = spawn('/usr/sbin/named', ['-g', '-c', join(dir, 'named.conf'), '-u', 'root'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    named.stderr!.on('data', (c: Buffer) => { log += c.toString(); });
    const deadline = Date.now() + 20_000;
    while (!/running/.test(log) && Date.now() < deadline && named.exitCode === null) await new Promise((r) => setTimeout(r, 100));
    if (!/running/.test(log)) throw new Error(`named did not start: ${log.slice(-1500)}`);
    const config = { server: '127.0.0.1', port, zone: ZONE, keyName: 'lifeboat', secret, timeoutMs: 4000 };
    target = {
      provider: new Rfc2136Provider(config),
      zone: ZONE,
      wrongCredentials: new Rfc2136Provider({ ...config, secret: randomBytes(32).toString('base64') }),
      unreachable: new Rfc2136Provider({ ...config, port: await freePort(), timeoutMs: 2000 }),
    };
  });
  after(async () => {
    if (named?.pid && named.exitCode === null) {
      named.kill('SIGTERM');
      await new Promise((r) => named!.once('exit', r));
    }
    await rm(dir, { recursive: true, force: true });
  });

  providerContract('rfc2136', () => target);
});
