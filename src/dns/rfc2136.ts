/**
 * RFC 2136 dynamic updates signed with TSIG (RFC 8945), for zones served by BIND, Knot,
 * PowerDNS and most self-run name servers. Debian's own tools do the protocol: `nsupdate`
 * sends the update, `dig` reads back what the server holds (+norecurse, from the primary
 * server itself). The TSIG secret travels in a key file in a private folder, never on a
 * command line `ps` shows; it is removed after each call.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkTtl, checkValues, DnsError, inZone, normalName, type DnsProvider, type RecordSet, type RecordType } from './provider.ts';

export interface Rfc2136Config {
  /** The zone's primary server (an address or a name). */
  server: string;
  port?: number;
  zone: string;
  keyName: string;
  algorithm?: 'hmac-sha256' | 'hmac-sha512';
  /** The TSIG secret, base64 (as `tsig-keygen` prints it). */
  secret: string;
  timeoutMs?: number;
}

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], input: string | undefined, timeoutMs: number): Promise<Ran> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { timeout: timeoutMs, maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) + (error && code === 1 && !stderr ? error.message : '') });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

const HOST = /^[A-Za-z0-9.:-]+$/;
const KEY_NAME = /^[A-Za-z0-9._-]+$/;

export class Rfc2136Provider implements DnsProvider {
  readonly describe: string;
  private readonly zone: string;
  private readonly port: number;
  private readonly timeoutMs: number;

  constructor(private readonly config: Rfc2136Config) {
    if (!HOST.test(config.server)) throw new DnsError('bad-input', `rfc2136 server ${JSON.stringify(config.server)} is not an address or a host name`);
    if (!KEY_NAME.test(config.keyName)) throw new DnsError('bad-input', `TSIG key name ${JSON.stringify(config.keyName)}: letters, digits and ._- only`);
    if (!/^[A-Za-z0-9+/=]+$/.test(config.secret)) throw new DnsError('bad-input', 'the TSIG secret must be base64 (as tsig-keygen prints it)');
    this.zone = normalName(config.zone);
    this.port = config.port ?? 53;
    this.timeoutMs = config.timeoutMs ?? 10_000;
    this.describe = `rfc2136 ${this.zone} at ${config.server}:${this.port}`;
  }

  private async withKey<T>(use: (keyFile: string) => Promise<T>): Promise<T> {
    const dir = await mkdtemp(join(tmpdir(), 'lifeboat-tsig-'));
    try {
      const keyFile = join(dir, 'key');
      await writeFile(keyFile, `key "${this.config.keyName}" {\n  algorithm ${this.config.algorithm ?? 'hmac-sha256'};\n  secret "${this.config.secret}";\n};\n`, { mode: 0o600 });
      return await use(keyFile);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  private own(name: string): string {
    const n = normalName(name);
    if (!inZone(n, this.zone)) throw new DnsError('no-zone', `${n} is not in zone ${this.zone} (${this.describe})`);
    return n;
  }

  async get(name: string, type: RecordType): Promise<RecordSet> {
    const n = this.own(name);
    return this.withKey(async (keyFile) => {
      const seconds = Math.max(1, Math.round(this.timeoutMs / 2000));
      const r = await run('dig', ['-k', keyFile, `@${this.config.server}`, '-p', String(this.port), '+norecurse', '+noall', '+comments', '+answer', `+time=${seconds}`, '+tries=2', n, type], undefined, this.timeoutMs + 2000);
      if (r.code === 9 || /connection timed out|no servers could be reached/i.test(r.stdout + r.stderr)) throw new DnsError('unreachable', `${this.describe}: no answer (${(r.stdout + r.stderr).trim().split('\n').pop()})`);
      if (r.code !== 0) throw new DnsError('failed', `${this.describe}: dig failed: ${(r.stderr || r.stdout).trim().slice(-300)}`);
      const status = /status: ([A-Z]+)/.exec(r.stdout)?.[1];
      if (/tsig/i.test(r.stdout) && /(BADSIG|BADKEY|BADTIME|tsig verify failure)/i.test(r.stdout + r.stderr)) throw new DnsError('refused', `${this.describe}: the server did not accept the TSIG key ${this.config.keyName}`);
      if (status === 'REFUSED' || status === 'NOTAUTH') throw new DnsError('refused', `${this.describe}: the server answered ${status} for ${n}`);
      if (status !== 'NOERROR' && status !== 'NXDOMAIN') throw new DnsError('failed', `${this.describe}: the server answered ${status ?? 'nothing readable'} for ${n} ${type}`);
      const values: string[] = [];
      let ttl = 0;
      for (const line of r.stdout.split('\n')) {
        if (!line.trim() || line.startsWith(';')) continue;
        const m = /^(\S+)\s+(\d+)\s+IN\s+(\S+)\s+(.*)$/.exec(line.trim());
        if (!m || m[3] !== type || normalName(m[1]!) !== n) continue;
        ttl = Number(m[2]);
        values.push(type === 'TXT' ? m[4]!.replace(/^"|"$/g, '').replace(/" "/g, '') : type === 'CNAME' ? normalName(m[4]!) : m[4]!.trim());
      }
      return { name: n, type, values: values.sort(), ttl };
    });
  }

  async set(name: string, type: RecordType, values: readonly string[], ttl: number): Promise<void> {
    const n = this.own(name);
    const checked = checkValues(type, values);
    checkTtl(ttl);
    const render = (v: string) => (type === 'TXT' ? `"${v}"` : type === 'CNAME' ? `${v}.` : v);
    // One message: the old set goes and the new one comes in the same update (atomic on the server).
    await this.update([`update delete ${n}. ${type}`, ...checked.map((v) => `update add ${n}. ${ttl} ${type} ${render(v)}`)]);
    const now = await this.get(n, type);
    const want = [...checked].sort();
    if (JSON.stringify(now.values) !== JSON.stringify(want)) {
      throw new DnsError('failed', `${this.describe}: after the update ${n} ${type} holds ${now.values.join(', ') || 'nothing'}, not ${want.join(', ')}`);
    }
  }

  async remove(name: string, type: RecordType): Promise<void> {
    const n = this.own(name);
    await this.update([`update delete ${n}. ${type}`]);
    const now = await this.get(n, type);
    if (now.values.length) throw new DnsError('failed', `${this.describe}: ${n} ${type} still holds ${now.values.join(', ')} after its removal`);
  }

  private async update(lines: string[]): Promise<void> {
    await this.withKey(async (keyFile) => {
      const script = [`server ${this.config.server} ${this.port}`, `zone ${this.zone}.`, ...lines, 'send', ''].join('\n');
      const r = await run('nsupdate', ['-k', keyFile, '-t', String(Math.max(1, Math.round(this.timeoutMs / 1000)))], script, this.timeoutMs + 2000);
      if (r.code === 0) return;
      const said = (r.stderr + r.stdout).trim();
      if (/REFUSED|NOTAUTH|tsig|BADKEY|BADSIG/i.test(said)) throw new DnsError('refused', `${this.describe}: the update was refused (${said.split('\n').pop()})`);
      if (/timed out|could not reach|communications error|no servers|connection refused/i.test(said)) throw new DnsError('unreachable', `${this.describe}: no answer to the update (${said.split('\n').pop()})`);
      throw new DnsError('failed', `${this.describe}: nsupdate failed: ${said.slice(-300)}`);
    });
  }
}
