/**
 * `lifeboat probe --push URL --token REF`: the users'-side probe (src/control/users-side/
 * agent.ts), meant for a machine inside the users' network. It needs no fleet file: the daemon
 * tells it what to check.
 */
import { hostname } from 'node:os';
import type { Command } from 'commander';
import { ProbeAgentError, runProbeAgent, type AgentRound } from '../../control/users-side/agent.ts';
import { secretRef } from '../../fleet/schema.ts';
import { secretResolver } from '../../fleet/secrets.ts';
import { EXIT, UsageError } from '../exit.ts';

interface ProbeOptions {
  push?: string;
  token?: string;
  name?: string;
  once?: boolean;
  json?: boolean;
}

export function registerProbe(program: Command): void {
  program
    .command('probe')
    .description("The users'-side probe: check the fleet's addresses, ports and domains from inside the users' network and push signed results to the daemon")
    .requiredOption('--push <url>', 'the daemon\'s API (lifeboat serve --listen), e.g. http://203.0.113.5:9464')
    .requiredOption('--token <ref>', "the shared token as env:NAME or file:/path (watch.usersSide.token); never the token itself, which `ps` would show")
    .option('--name <name>', 'this probe\'s name in the daemon\'s evidence (default: the host name)')
    .option('--once', 'one round, then exit')
    .option('--json', 'one JSON line per round on stdout')
    .addHelpText('after', `
Each round the probe asks the daemon what to check, connects to every address and port users
reach, resolves every domain through this machine's resolver and fetches it, and pushes the
report signed with HMAC-SHA256 under the token. A daemon it cannot reach, or that refuses the
token, at the start is bad input and nothing is probed.

Exit codes: 0 stopped by SIGTERM/SIGINT (or --once pushed), 1 --once could not push, 2 bad input.`)
    .action(async (options: ProbeOptions) => {
      process.exitCode = await probe(options);
    });
}

async function probe(options: ProbeOptions): Promise<number> {
  let url: URL;
  try {
    url = new URL(options.push!);
  } catch {
    throw new UsageError(`--push ${options.push}: not a URL (expected e.g. http://203.0.113.5:9464)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--push ${options.push}: expected an http:// or https:// URL`);
  if (!secretRef.safeParse(options.token).success) {
    throw new UsageError('--token: expected env:NAME or file:/absolute/path; a token written on the command line is visible to every user of this machine');
  }
  const name = options.name ?? hostname();
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(name)) throw new UsageError(`--name ${name}: letters, digits, dot, dash and underscore, at most 64`);
  const token = await secretResolver(process.env)(options.token!);
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  let last: AgentRound | undefined;
  try {
    await runProbeAgent({
      url: url.href, token, name, signal: stop.signal, ...(options.once ? { once: true } : {}),
      onRound: (round) => {
        last = round;
        if (options.json) process.stdout.write(JSON.stringify(round) + '\n');
        else process.stdout.write(round.pushed ? `${round.at} pushed: ${round.ports} ports checked, ${round.silent} silent\n` : `${round.at} not pushed: ${round.error}\n`);
      },
    });
  } catch (error) {
    // The first exchange with the daemon failed: nothing was probed.
    if (error instanceof ProbeAgentError) throw new UsageError(`${error.message}; nothing probed`, { cause: error.cause });
    throw error;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
  return options.once && !last?.pushed ? EXIT.unhealthy : EXIT.ok;
}
