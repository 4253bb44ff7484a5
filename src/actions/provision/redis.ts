/**
 * Turns a bare machine into the fleet's Redis (runbook §4.2 step 5.2, §4.4): lifeboat's
 * drop-in (address, port, password) included last in redis.conf, the data, run and log
 * folders owned by `redis`, the server started with the fleet's `redis.driver`, and a PING
 * answered on the fleet address.
 */
import { runChecked } from '../../remote/remote.ts';
import { ActionError, type Action, type ActionContext, type Change } from '../action.ts';
import { machineAddress } from '../db-connection.ts';
import { driverFor, type DriverOptions, type ServiceDriver } from '../drivers/index.ts';
import { unifiedDiff } from '../text-diff.ts';
import { redactConfigText } from '../../util/redact.ts';
import {
  DEBIAN_REDIS_PATHS,
  renderBaseRedisConfig,
  renderRedisDropIn,
  withIncludeLast,
  type RedisPaths,
} from './redis-config.ts';
import { readTextOrUndefined, shq } from './remote-shell.ts';

export type { RedisPaths } from './redis-config.ts';

export interface ProvisionRedisOptions {
  /** Addresses Redis listens on. Default the machine's fleet address and 127.0.0.1 (§4.3 step 5 points services at localhost). */
  bind?: readonly string[];
  /** Default Debian's layout. */
  paths?: Partial<RedisPaths>;
  /** OS account redis-server runs as. Default `redis`. */
  osUser?: string;
  drivers?: DriverOptions;
  /** How long Redis may take to answer PING after its start. Default 15 s. */
  startWithinMs?: number;
}

function dirOf(path: string): string {
  return path.slice(0, path.lastIndexOf('/')) || '/';
}

/**
 * Shell that runs `redis-cli` against `host:port` with `args`. The password, when there is
 * one, arrives on stdin and reaches redis-cli through REDISCLI_AUTH, never a command line.
 */
export function redisCliCommand(host: string, port: number, args: string, withPassword: boolean): string {
  const cli = `redis-cli --no-auth-warning -h ${shq(host)} -p ${port} ${args}`;
  return withPassword ? `IFS= read -r REDISCLI_AUTH; export REDISCLI_AUTH; ${cli}` : cli;
}

export function provisionRedis(machine: string, options: ProvisionRedisOptions = {}): Action {
  const startWithinMs = options.startWithinMs ?? 15_000;
  const osUser = options.osUser ?? 'redis';

  function setup(ctx: ActionContext) {
    const redis = ctx.fleet.redis;
    if (!redis) throw new ActionError('precondition', 'the fleet file has no redis section');
    const paths = { ...DEBIAN_REDIS_PATHS, ...options.paths };
    const bind = options.bind ?? [...new Set([machineAddress(ctx, machine), '127.0.0.1'])];
    const driver: ServiceDriver = driverFor('redis', redis.driver, options.drivers);
    return { remote: ctx.remote(machine), paths, bind, port: redis.port, passwordRef: redis.password, driver };
  }

  async function dropInText(ctx: ActionContext, s: ReturnType<typeof setup>): Promise<string> {
    const password = s.passwordRef ? await ctx.secret(s.passwordRef) : undefined;
    return renderRedisDropIn({ machine, bind: s.bind, port: s.port, ...(password !== undefined ? { password } : {}) });
  }

  /** Missing folders are created for redis; existing ones only change owner when redis does not own them (a bare spare's root-owned mount point). */
  function foldersCommand(paths: RedisPaths): string {
    const dirs = [...new Set([paths.dataDir, dirOf(paths.pidFile), dirOf(paths.logFile)])];
    const user = shq(osUser);
    return `for d in ${dirs.map(shq).join(' ')}; do if [ -d "$d" ]; then [ "$(stat -c %U -- "$d")" = ${user} ] || chown ${user}:${user} -- "$d"; else install -d -o ${user} -g ${user} -m 0750 -- "$d"; fi; done`;
  }

  async function cli(ctx: ActionContext, s: ReturnType<typeof setup>, args: string, timeoutMs = 5000) {
    const password = s.passwordRef ? await ctx.secret(s.passwordRef) : undefined;
    return s.remote.run(redisCliCommand(s.bind[0]!, s.port, args, password !== undefined), {
      ...(password !== undefined ? { stdin: `${password}\n` } : {}),
      timeoutMs,
    });
  }

  async function pingUntil(ctx: ActionContext, s: ReturnType<typeof setup>, withinMs: number): Promise<string> {
    const deadline = Date.now() + withinMs;
    for (;;) {
      const r = await cli(ctx, s, 'PING').catch((e: Error) => ({ code: -1, stdout: '', stderr: e.message }));
      if (r.code === 0 && r.stdout.trim() === 'PONG') return 'PONG';
      if (Date.now() + 100 > deadline) return (r.stdout || r.stderr).trim() || `redis-cli exited ${r.code}`;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Settings the running server must report (CONFIG GET), or why it does not. */
  async function stale(ctx: ActionContext, s: ReturnType<typeof setup>): Promise<string[]> {
    const r = await cli(ctx, s, 'CONFIG GET port');
    const port = r.stdout.trim().split('\n')[1];
    if (r.code !== 0 || port === undefined) return [`Redis does not answer on ${s.bind[0]}:${s.port}`];
    const b = await cli(ctx, s, 'CONFIG GET bind');
    const bind = (b.stdout.trim().split('\n')[1] ?? '').split(/\s+/).filter(Boolean);
    const wrong: string[] = [];
    if (port !== String(s.port)) wrong.push(`port is ${port}, expected ${s.port}`);
    if (bind.join(' ') !== s.bind.join(' ')) wrong.push(`bind is "${bind.join(' ')}", expected "${s.bind.join(' ')}"`);
    return wrong;
  }

  return {
    title: `Provision Redis on ${machine}`,
    machines: [machine],
    mutating: true,
    async plan(ctx) {
      const s = setup(ctx);
      const changes: Change[] = [];
      const base = await readTextOrUndefined(s.remote, s.paths.config);
      const baseAfter = base === undefined ? renderBaseRedisConfig(s.paths) : withIncludeLast(base, s.paths);
      if (baseAfter !== base) {
        changes.push({ kind: 'file', machine, path: s.paths.config, diff: unifiedDiff(redactConfigText(base ?? ''), redactConfigText(baseAfter), { path: s.paths.config }) });
      }
      const before = (await readTextOrUndefined(s.remote, s.paths.dropIn)) ?? '';
      const diff = unifiedDiff(redactConfigText(before), redactConfigText(await dropInText(ctx, s)), { path: s.paths.dropIn });
      changes.push(diff ? { kind: 'file', machine, path: s.paths.dropIn, diff } : { kind: 'note', machine, text: `${s.paths.dropIn} is already in place` });
      changes.push({ kind: 'command', machine, command: foldersCommand(s.paths) });
      const state = await s.driver.status(s.remote);
      if (state !== 'running') changes.push({ kind: 'command', machine, command: s.driver.commands.start });
      else if (diff || (await stale(ctx, s)).length > 0) changes.push({ kind: 'command', machine, command: s.driver.commands.restart });
      else changes.push({ kind: 'note', machine, text: 'Redis already runs with these settings' });
      changes.push({ kind: 'command', machine, command: redisCliCommand(s.bind[0]!, s.port, 'PING', s.passwordRef !== undefined) + '  # until PONG' });
      return changes;
    },
    async apply(ctx) {
      const s = setup(ctx);
      try {
        await runChecked(s.remote, `mkdir -p -- ${shq(dirOf(s.paths.config))} ${shq(dirOf(s.paths.dropIn))}`);
        // The drop-in may hold the password: readable by redis, not by everyone.
        const written = await s.remote.writeFile(s.paths.dropIn, await dropInText(ctx, s), { backup: true, mode: 0o640 });
        await runChecked(s.remote, `chown root:${shq(osUser)} -- ${shq(s.paths.dropIn)} && chmod 0640 -- ${shq(s.paths.dropIn)}`);
        const base = await readTextOrUndefined(s.remote, s.paths.config);
        const baseAfter = base === undefined ? renderBaseRedisConfig(s.paths) : withIncludeLast(base, s.paths);
        if (baseAfter !== base) {
          await s.remote.writeFile(s.paths.config, baseAfter, { backup: true, mode: 0o640 });
          if (base === undefined) await runChecked(s.remote, `chown root:${shq(osUser)} -- ${shq(s.paths.config)}`);
        }
        await runChecked(s.remote, foldersCommand(s.paths));
        const state = await s.driver.status(s.remote);
        if (state !== 'running') {
          await s.driver.start(s.remote);
          ctx.log(`${machine}: Redis started`);
        } else {
          const why = !written.unchanged || baseAfter !== base ? ['config changed'] : await stale(ctx, s);
          if (why.length > 0) {
            await s.driver.restart(s.remote);
            ctx.log(`${machine}: Redis restarted to take the new settings (${why[0]})`);
          }
        }
      } catch (error) {
        if (error instanceof ActionError) throw error;
        throw new ActionError('apply-failed', `${machine}: provisioning Redis failed: ${(error as Error).message}`, { cause: error });
      }
      const answer = await pingUntil(ctx, s, startWithinMs);
      if (answer !== 'PONG') throw new ActionError('apply-failed', `${machine}: Redis did not answer PING on ${s.bind[0]}:${s.port} within ${startWithinMs} ms: ${answer}`);
    },
    async verify(ctx) {
      const s = setup(ctx);
      const state = await s.driver.status(s.remote);
      if (state !== 'running') throw new ActionError('verify-failed', `${machine}: Redis is ${state} (${s.driver.commands.status})`);
      const answer = await pingUntil(ctx, s, 2000);
      if (answer !== 'PONG') throw new ActionError('verify-failed', `${machine}: PING on ${s.bind[0]}:${s.port} answered ${JSON.stringify(answer)}`);
      const wrong = await stale(ctx, s);
      if (wrong.length > 0) throw new ActionError('verify-failed', `${machine}: Redis runs with other settings: ${wrong.join('; ')}`);
    },
  };
}
