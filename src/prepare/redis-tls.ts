/**
 * Redis serves TLS on its own port (fleet `tls.redisPort`) with the machine's certificate,
 * and connects to its primary inside TLS when it is a replica (`tls-replication`): set live
 * with CONFIG SET (Redis reloads its TLS settings without a restart) and in a block of its
 * redis.conf so a restart keeps it. The plain port stays for the clients on the machine.
 *
 * Until it serves TLS, Redis is asked on the machine itself (redis-cli over SSH, the
 * password on standard input): a password sent to its plain port from here would cross the
 * network in clear. Redis checks its primary's certificate against the CA, not its name.
 */
import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { ActionError, type Action, type ActionContext, type Change } from '../actions/action.ts';
import { fileChange, readIfExists } from '../actions/desired-file.ts';
import { redisPassword, withRedis } from '../actions/redis-connection.ts';
import type { Fleet, Machine } from '../fleet/schema.ts';
import { tlsPorts } from '../fleet/model.ts';
import { shq } from '../remote/remote.ts';
import { runBash } from '../remote/shell.ts';
import { machineTlsFiles } from '../remote/tls.ts';
import type { PrepareOptions } from './prepare-options.ts';
import { settle } from './settle.ts';

const BLOCK_START = '# --- lifeboat prepare: TLS (change the fleet file, not this block) ---';
const BLOCK_END = '# --- end of lifeboat TLS block ---';

export function tlsSettings(fleet: Fleet): Array<[string, string]> {
  const f = machineTlsFiles(fleet);
  return [
    ['tls-cert-file', f.cert],
    ['tls-key-file', f.redisKey],
    ['tls-ca-cert-file', f.ca],
    // Clients prove themselves with the password, as on the plain port.
    ['tls-auth-clients', 'no'],
    ['tls-replication', 'yes'],
    // Last: the port opens once the certificate is set.
    ['tls-port', String(tlsPorts(fleet).redis)],
  ];
}

/**
 * The config text with lifeboat's TLS block where the earlier one was (or at the end), and
 * no other line setting what it sets. In place, so that the replication block, which moves
 * itself to the end, and this one settle after one run of each.
 */
export function withTlsBlock(text: string, settings: ReadonlyArray<[string, string]>): string {
  const names = new Set(settings.map(([n]) => n));
  const block = [BLOCK_START, ...settings.map(([n, v]) => `${n} ${v}`), BLOCK_END];
  const kept: string[] = [];
  let inBlock = false;
  let placed = false;
  for (const line of text.split('\n')) {
    if (line === BLOCK_START) {
      inBlock = true;
      if (!placed) kept.push(...block);
      placed = true;
    } else if (line === BLOCK_END) inBlock = false;
    else if (!inBlock && !names.has(line.trim().split(/\s+/)[0]?.toLowerCase() ?? '')) kept.push(line);
  }
  if (placed) return kept.join('\n');
  while (kept.length && kept[kept.length - 1] === '') kept.pop();
  return [...kept, '', ...block, ''].join('\n');
}

/** A script that runs redis-cli against the machine's own Redis, the password read from stdin. */
function cliScript(m: Machine, port: number, commands: string[][]): string {
  return [
    'IFS= read -r pass || true',
    'if [ -n "$pass" ]; then export REDISCLI_AUTH="$pass"; fi',
    ...commands.map((c) => `redis-cli --no-auth-warning -h ${shq(m.address)} -p ${port} ${c.map(shq).join(' ')}`),
  ].join('\n');
}

export function redisTls(m: Machine, options: PrepareOptions): Action {
  async function inspect(ctx: ActionContext) {
    const redis = ctx.fleet.redis;
    if (!redis) throw new ActionError('precondition', 'the fleet file has no redis section');
    const settings = tlsSettings(ctx.fleet);
    const password = (await redisPassword(ctx)) ?? '';
    const asked = await runBash(ctx.remote(m.name), cliScript(m, redis.port, [['CONFIG', 'GET', 'tls-*'], ['INFO', 'server']]), { stdin: `${password}\n`, timeoutMs: 15_000 });
    if (asked.code !== 0 || /^(ERR|NOAUTH|WRONGPASS)/m.test(asked.stdout)) {
      throw new ActionError('precondition', `${m.name}: Redis does not answer on the machine: ${(asked.stderr || asked.stdout).trim().slice(-300)}`);
    }
    const lines = asked.stdout.split(/\r?\n/);
    const live = new Map<string, string>();
    for (let i = 0; i + 1 < lines.length; i++) if (lines[i]!.startsWith('tls-')) live.set(lines[i]!, lines[++i]!);
    const configFile = lines.find((l) => l.startsWith('config_file:'))?.slice('config_file:'.length).trim() ?? '';
    if (!configFile) throw new ActionError('precondition', `Redis on ${m.name} runs without a config file: its TLS settings would not survive a restart; start it with /etc/redis/redis.conf`);
    const before = await readIfExists(ctx.remote(m.name), configFile);
    if (before === undefined) throw new ActionError('precondition', `${m.name}: Redis names ${configFile} as its config file, but it cannot be read`);
    const after = withTlsBlock(before, settings);
    const wrong = settings.filter(([n, v]) => live.get(n) !== v);
    return { settings, password, wrong, configFile, before, after, port: redis.port };
  }

  /** The certificate Redis serves on its TLS port, against the one on disk: a renewed one is loaded by setting its file again. */
  async function servedIsCurrent(ctx: ActionContext): Promise<boolean> {
    const file = await readIfExists(ctx.remote(m.name), machineTlsFiles(ctx.fleet).cert);
    if (!file) return false;
    return withRedis(ctx, m.name, async (client) => {
      const socket = (client as unknown as { stream?: TLSSocket }).stream;
      const served = socket && typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate() : undefined;
      return served?.serialNumber?.toUpperCase() === new X509Certificate(file).serialNumber.toUpperCase();
    });
  }

  return {
    title: `Redis on ${m.name} serves TLS`,
    machines: [m.name],
    mutating: true,
    async plan(ctx) {
      const s = await inspect(ctx);
      const changes: Change[] = fileChange({ machine: m.name, path: s.configFile, content: s.after }, s.before, s.after);
      if (s.wrong.length) changes.push({ kind: 'command', machine: m.name, command: `(redis) CONFIG SET ${s.wrong.map(([n, v]) => `${n} ${v}`).join(' ')}` });
      return changes;
    },
    async apply(ctx) {
      const s = await inspect(ctx);
      if (s.before !== s.after) await ctx.remote(m.name).writeFile(s.configFile, s.after, { backup: true });
      const set = s.wrong.length ? s.settings : (await servedIsCurrent(ctx).catch(() => false)) ? [] : s.settings.slice(0, 1);
      if (set.length === 0) return;
      const result = await runBash(ctx.remote(m.name), cliScript(m, s.port, [['CONFIG', 'SET', ...set.flat()]]), { stdin: `${s.password}\n`, timeoutMs: 15_000 });
      if (result.code !== 0 || !/^OK/m.test(result.stdout)) throw new ActionError('apply-failed', `${m.name}: Redis refused its TLS settings: ${(result.stdout || result.stderr).trim().slice(-300)}`);
    },
    async verify(ctx) {
      const s = await inspect(ctx);
      if (s.wrong.length) throw new ActionError('verify-failed', `${m.name}: Redis has ${s.wrong.map(([n]) => `${n} ${JSON.stringify(s.settings.find(([x]) => x === n)?.[1])}`).join(', ')} not in place`);
      if (s.before !== s.after) throw new ActionError('verify-failed', `${m.name}: ${s.configFile} does not hold lifeboat's TLS block`);
      // A client of the fleet's CA, checking the machine's name, gets an answer on the TLS port.
      if (!(await settle(() => servedIsCurrent(ctx).catch(() => false), options.settleMs))) {
        throw new ActionError('verify-failed', `${m.name}: Redis does not serve the machine's current certificate on port ${tlsPorts(ctx.fleet).redis}`);
      }
    },
  };
}
