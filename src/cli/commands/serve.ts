/**
 * `lifeboat serve`: the watch daemon (src/control/watch.ts) on a fleet, until SIGTERM or
 * SIGINT; `lifeboat approve RUN`: a person approves a recovery the daemon planned under a
 * `confirm` policy.
 */
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { WebAuth } from '../../control/web/auth.ts';
import { DashboardModel } from '../../control/web/model.ts';
import { History } from '../../state/history.ts';
import { Alerter, alertChannels } from '../../control/alerts.ts';
import type { Server } from 'node:http';
import { serveApi } from '../../control/http-api.ts';
import { InsideProbes } from '../../control/inside-probes.ts';
import { readHealth } from '../../control/health-reading.ts';
import { fleetStatus } from '../../health/fleet-status.ts';
import { WatchMetrics } from '../../control/metrics.ts';
import { usersSideTargets } from '../../control/users-side/targets.ts';
import { UsersSideStore } from '../../control/users-side/store.ts';
import { Watch, type WatchEvent } from '../../control/watch.ts';
import { NOTIFY_ONLY, POLICIES, POLICY_KEYS, SCENARIO_NAMES, watchSchema, type WatchSettings } from '../../fleet/schema.ts';
import { nearest } from '../../util/suggest.ts';
import { Journal } from '../../recovery/journal.ts';
import { progressPrinter, renderRoles, renderSummary, rolesToJson, runToJson } from '../../recovery/render.ts';
import { scenarioNamed } from '../../recovery/scenarios/index.ts';
import { startRecovery } from '../../recovery/start.ts';
import type { ScenarioInput } from '../../recovery/step.ts';
import { EXIT, UsageError } from '../exit.ts';
import { fleetFileOf, fleetOption, stateFileFrom } from '../options.ts';
import { openSession } from '../session.ts';

const STATE_HELP = 'state file (default: $LIFEBOAT_STATE or ~/.lifeboat/state.db)';
/** Where the daemon serves its dashboard and metrics unless told otherwise: this machine only. */
const DEFAULT_LISTEN = '127.0.0.1:9464';

interface ServeOptions {
  fleet?: string;
  policy?: string[];
  interval?: string;
  deadRounds?: string;
  deadFor?: string;
  healthInterval?: string;
  listen?: string | false;
  tlsCert?: string;
  tlsKey?: string;
  observe?: boolean;
  once?: boolean;
  json?: boolean;
  state?: string;
  acceptNewHostKeys?: boolean;
}

function renderEvent(e: WatchEvent): string {
  switch (e.type) {
    case 'started': return `${e.at} watching ${e.fleet} every ${e.intervalS} s (dead after ${e.deadRounds} rounds over at least ${e.deadForS} s)${e.observe ? ', observe mode: nothing will be changed' : ''}`;
    case 'verdict': return `${e.at} ${e.machine}: ${e.kind} — ${e.reason}`;
    case 'incident-opened': return `${e.at} INCIDENT ${e.scenario} (${e.why})`;
    case 'decision': return `${e.at} ${e.scenario} --failed ${e.failed}: policy ${e.policy}, ${e.action}: ${e.detail}`;
    case 'recovery-finished': return `${e.at} run ${e.runId} ${e.scenario}: ${e.outcome} in ${e.seconds} s`;
    case 'roles': return e.recorded ? `${e.at} roles follow run ${e.runId}:\n${e.detail}` : `${e.at} !! ${e.detail}`;
    case 'incident-closed': return `${e.at} ${e.machine} answers again`;
    case 'flapping': return `${e.at} FLAPPING ${e.detail}`;
    case 'blocked': return `${e.at} BLOCKED ${e.kind} ${e.target}: ${e.reason} (policy ${e.policy}; no failover)\n${e.evidence.map((r) => `    ${r.vantage.padEnd(20)} ${r.check.padEnd(28)} ${r.seen}`).join('\n')}`;
    case 'unblocked': return `${e.at} ${e.target} is no longer ${e.kind}`;
    case 'users-side': return `${e.at} users' side ${e.state}: ${e.detail}`;
    case 'condition': return `${e.at} ${e.kind.toUpperCase()} ${e.target}: ${e.reason} (policy ${e.policy})`;
    case 'condition-cleared': return `${e.at} ${e.target}: ${e.kind} no longer holds`;
    case 'unreadable': return `${e.at} ${e.detail}`;
    case 'error': return `${e.at} error: ${e.message}`;
  }
}

export function registerServe(program: Command): void {
  fleetOption(program.command('serve'))
    .description('The watch daemon: judge every machine from every vantage point, confirm a failure over rounds, and act by the fleet\'s watch policy')
    .option('--observe', 'decide and alert ("a failover would start now"), change nothing')
    .option('--policy <scenario=policy...>', `override the fleet file's watch.policy, e.g. primary-down=auto (policies: ${POLICIES.join(', ')})`)
    .option('--interval <seconds>', "override watch.intervalS")
    .option('--dead-rounds <n>', "override watch.deadRounds")
    .option('--dead-for <seconds>', 'override watch.deadForS (how long a machine must have been seen dead; default interval × (dead rounds − 1))')
    .option('--health-interval <seconds>', 'override watch.health.intervalS (conditions: services, databases, disks, backups, certificates)')
    .option('--once', 'one round, then exit')
    .option('--listen <[host:]port>', `serve the dashboard, GET /metrics and the users'-side probe API here (a bare port: 127.0.0.1; default ${DEFAULT_LISTEN}, none with --once)`)
    .option('--no-listen', 'serve nothing over HTTP')
    .option('--tls-cert <file>', 'serve HTTPS with this certificate (PEM; with --tls-key)')
    .option('--tls-key <file>', 'the certificate\'s private key (PEM)')
    .option('--json', 'events as JSON lines on stdout')
    .option('--state <path>', STATE_HELP)
    .option('--accept-new-host-keys', 'add unknown SSH host keys to known_hosts (changed keys are always refused)')
    .addHelpText('after', `
Policy (fleet file, \`watch.policy\`, per scenario): notify (default), confirm (the plan is
journaled and alerted; \`lifeboat approve RUN\` runs it), auto. A machine is acted on only when
every vantage point that should see it agrees it is dead for \`watch.deadRounds\` rounds.
After an automatic recovery none starts for \`watch.cooldownS\` unless \`lifeboat runs ack\`.

Dashboard (on the --listen address): log in as a user made by \`lifeboat users add NAME\` (same --state);
it shows the fleet, incidents and runs live, and approves or rejects plans.

Exit codes: 0 stopped by SIGTERM/SIGINT (or --once done), 2 bad input.`)
    .action(async (options: ServeOptions) => {
      process.exitCode = await serve(options);
    });

  fleetOption(program.command('approve'))
    .description('Run a recovery the watch daemon planned under a confirm policy (a person approves it)')
    .argument('<run>', 'the planned run\'s id, or a unique prefix of it')
    .option('--by <name>', 'who approves (recorded in the journal)')
    .option('--json', 'print the run as JSON at the end')
    .option('--state <path>', STATE_HELP)
    .option('--accept-new-host-keys', 'add unknown SSH host keys to known_hosts (changed keys are always refused)')
    .addHelpText('after', '\nExit codes: 0 recovered, 1 a step or check failed, 2 bad input (no such planned run).')
    .action(async (runId: string, options: ServeOptions & { by?: string }) => {
      process.exitCode = await approve(runId, options);
    });
}

/** The fleet's watch settings with the command line's overrides, checked by the same schema. */
export function settingsFrom(base: WatchSettings, options: Pick<ServeOptions, 'policy' | 'interval' | 'deadRounds' | 'deadFor' | 'healthInterval'>): WatchSettings {
  const policy: Record<string, string> = { ...base.policy };
  for (const item of options.policy ?? []) {
    const [scenario, value, extra] = item.split('=');
    if (!scenario || !value || extra !== undefined) throw new UsageError(`--policy ${item}: expected SCENARIO=POLICY, e.g. primary-down=auto`);
    if (!(POLICY_KEYS as readonly string[]).includes(scenario)) {
      const guess = nearest(scenario, POLICY_KEYS);
      throw new UsageError(`--policy: unknown scenario or verdict \`${scenario}\`${guess ? ` — did you mean \`${guess}\`?` : ''} (scenarios: ${SCENARIO_NAMES.join(', ')}; verdicts, notify only: ${NOTIFY_ONLY.join(', ')})`);
    }
    if (!(POLICIES as readonly string[]).includes(value)) throw new UsageError(`--policy ${item}: unknown policy \`${value}\` (policies: ${POLICIES.join(', ')})`);
    policy[scenario] = value;
  }
  const merged = {
    ...base, policy,
    ...(options.interval !== undefined ? { intervalS: Number(options.interval) } : {}),
    ...(options.deadRounds !== undefined ? { deadRounds: Number(options.deadRounds) } : {}),
    ...(options.deadFor !== undefined ? { deadForS: Number(options.deadFor) } : {}),
    ...(options.healthInterval !== undefined ? { health: { ...base.health, intervalS: Number(options.healthInterval) } } : {}),
  };
  const checked = watchSchema.safeParse(merged);
  const flag: Record<string, string> = { intervalS: '--interval', deadRounds: '--dead-rounds', deadForS: '--dead-for', policy: '--policy', 'health.intervalS': '--health-interval' };
  if (!checked.success) throw new UsageError(checked.error.issues.map((i) => `${flag[i.path.join('.')] ?? flag[String(i.path[0])] ?? `watch.${i.path.join('.')}`}: ${i.message}`).join('; '));
  return checked.data;
}

async function serve(options: ServeOptions): Promise<number> {
  const journal = Journal.open(stateFileFrom(options.state));
  const session = await openSession(fleetFileOf(options), {
    acceptNewHostKeys: options.acceptNewHostKeys ?? false,
    log: (line) => process.stderr.write(`    ${line}\n`),
  });
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  let metricsServer: Server | undefined;
  let stopInside = () => undefined as void;
  let closeAuth = () => undefined as void;
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    const settings = settingsFrom(session.fleet.watch ?? watchSchema.parse({}), options);
    const alerter = new Alerter(alertChannels(settings.alerts, session.ctx.secret), (line) => process.stderr.write(`${line}\n`));
    const metrics = new WatchMetrics();
    const listen = options.listen === false ? undefined : options.listen === undefined ? (options.once ? undefined : listenAddress(DEFAULT_LISTEN)) : listenAddress(options.listen);
    if ((options.tlsCert === undefined) !== (options.tlsKey === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
    if (options.tlsCert && !listen) throw new UsageError('--tls-cert needs --listen');
    const tls = options.tlsCert && options.tlsKey ? { cert: await readFile(options.tlsCert), key: await readFile(options.tlsKey) } : undefined;
    // The daemon's own probes of what users reach (ports, names, certificates), on its scheduler.
    const targets = usersSideTargets(session.fleet, settings.usersSide ?? { intervalS: settings.intervalS, timeoutMs: 2000 });
    const inside = new InsideProbes(session.fleet, targets, settings.health.intervalS * 1000);
    // Users'-side probes push to the daemon's API: without --listen they have nowhere to go.
    let usersSide: { store: UsersSideStore; inside: InsideProbes; token: string; targets: typeof targets } | undefined;
    if (settings.usersSide) {
      if (!listen) throw new UsageError("the fleet file has watch.usersSide: give --listen HOST:PORT so that users'-side probes can report");
      const token = await session.ctx.secret(settings.usersSide.token);
      usersSide = { store: new UsersSideStore(3 * settings.usersSide.intervalS * 1000), inside, token, targets };
    }
    const metricsToken = settings.metricsToken ? await session.ctx.secret(settings.metricsToken) : undefined;
    // The watch is made below; the dashboard reaches it through this box.
    const box: { watch?: Watch } = {};
    const auth = listen ? WebAuth.open(stateFileFrom(options.state)) : undefined;
    const history = listen ? History.open(stateFileFrom(options.state)) : undefined;
    closeAuth = () => { auth?.close(); history?.close(); };
    const model = new DashboardModel(() => box.watch?.fleet ?? session.fleet, journal, history);
    if (auth && auth.users().length === 0) process.stderr.write(`lifeboat: the dashboard has no users yet: \`lifeboat users add NAME${options.state ? ` --state ${options.state}` : ''}\`\n`);
    metricsServer = listen
      ? await serveApi({
        metrics, ...(usersSide ? { usersSide } : {}), ...(metricsToken ? { metricsToken } : {}), log: (line) => process.stderr.write(`${line}\n`),
        dashboard: {
          auth: auth!, fleetName: session.fleet.name, view: () => model.view(), log: (line) => process.stderr.write(`${line}\n`),
          approve: (id, by) => { if (!box.watch) throw new Error('the daemon is starting'); box.watch.approve(id, by); },
          reject: (id, by) => journal.reject(id, by),
        },
      }, listen.host, listen.port, tls)
      : undefined;
    const loopback = listen && (/^127\./.test(listen.host) || listen.host === '::1' || listen.host === 'localhost');
    if (listen && !tls && !loopback) process.stderr.write(`lifeboat: WARNING: the dashboard on ${listen.host} is plain HTTP: passwords and session cookies cross the network in clear; give --tls-cert and --tls-key\n`);
    if (listen) process.stderr.write(`lifeboat: dashboard on ${tls ? 'https' : 'http'}://${listen.host.includes(':') ? `[${listen.host}]` : listen.host}:${listen.port}/\n`);
    if (usersSide) metrics.watchUsersSide(() => usersSide.store.ages());
    inside.start();
    stopInside = () => inside.stop();
    const emit = (e: WatchEvent) => {
      metrics.observeEvent(e);
      model.observeEvent(e);
      process.stdout.write(`${options.json ? JSON.stringify(e) : renderEvent(e)}\n`);
    };
    const watch = new Watch({
      ctx: session.ctx, journal, settings, observe: options.observe ?? false, alerter, emit, fleetFile: session.fleetFile,
      onRound: (verdicts, seconds) => { metrics.observeRound(verdicts, seconds); model.observeRound(verdicts); },
      ...(usersSide ? { usersSide } : {}),
      // Four machines at a time: the reading must not load the machines the rounds judge.
      readHealth: async (ctx, alive) => {
        const reading = await readHealth(ctx, alive, () => fleetStatus({ ...ctx.fleet, machines: ctx.fleet.machines.filter((m) => alive.has(m.name)) }, { remote: ctx.remote, secret: ctx.secret, concurrency: 4 }), inside.certReadings());
        metrics.observeBinlogCopies(reading.binlogCopies);
        model.observeHealth(reading);
        return reading;
      },
    });
    box.watch = watch;
    if (options.once) {
      await watch.round();
      await watch.settled();
    } else {
      await watch.run(stop.signal);
    }
    return EXIT.ok;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    stopInside();
    // An open dashboard keeps its live stream: the daemon stops without waiting for the browser.
    metricsServer?.close();
    metricsServer?.closeAllConnections();
    closeAuth();
    await session.close();
    journal.close();
  }
}

function listenAddress(text: string): { host: string; port: number } {
  if (/^\d{1,5}$/.test(text)) text = `127.0.0.1:${text}`;
  const m = /^(.+):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < 1 || port > 65535) throw new UsageError(`--listen ${text}: expected HOST:PORT, e.g. 127.0.0.1:9464`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

async function approve(runId: string, options: ServeOptions & { by?: string }): Promise<number> {
  const out = (text: string) => (options.json ? process.stderr : process.stdout).write(text);
  const journal = Journal.open(stateFileFrom(options.state));
  try {
    const planned = journal.run(journal.resolveId(runId));
    if (planned.outcome !== 'planned') throw new UsageError(`run ${planned.id} is ${planned.outcome}, not a plan waiting for approval`);
    const scenario = scenarioNamed(planned.scenario);
    if (!scenario) throw new UsageError(`run ${planned.id} names an unknown scenario ${planned.scenario}`);
    const session = await openSession(fleetFileOf(options), { acceptNewHostKeys: options.acceptNewHostKeys ?? false });
    try {
      if (planned.fleet !== session.fleet.name) throw new UsageError(`run ${planned.id} is for fleet ${planned.fleet}, not ${session.fleet.name}`);
      if (planned.acknowledgements.length > 0) throw new UsageError(`run ${planned.id} was already decided: ${planned.acknowledgements.map((a) => `${a.comment ?? 'acknowledged'} by ${a.by}`).join(', ')}`);
      // Who approved is always recorded (the dashboard shows a plan without it as waiting).
      journal.acknowledge(planned.id, options.by ?? userInfo().username, 'approved');
      const run = await startRecovery({
        scenario, input: planned.input as ScenarioInput, ctx: session.ctx, journal, mode: 'auto', onProgress: progressPrinter(out), fleetFile: session.fleetFile,
      });
      out('\n' + renderSummary(run) + renderRoles(run.roles));
      if (options.json) process.stdout.write(JSON.stringify({ ...runToJson(run), roles: rolesToJson(run.roles) }, null, 2) + '\n');
      if (run.roles && 'error' in run.roles) return EXIT.unhealthy;
      return run.outcome === 'recovered' ? EXIT.ok : EXIT.unhealthy;
    } finally {
      await session.close();
    }
  } finally {
    journal.close();
  }
}
