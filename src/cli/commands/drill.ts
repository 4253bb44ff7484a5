/**
 * `lifeboat drill SCENARIO`: prove a recovery on a lab replica of the fleet — traffic,
 * fault, `lifeboat recover`, and a report of RTO, lost writes, lost uploads, double job runs.
 */
import { existsSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { DRILLS, DrillRoleError, drillNamed } from '../../lab/drill/drills.ts';
import { loadFleet } from '../../fleet/load.ts';
import { renderDrillReport } from '../../lab/drill/report.ts';
import { runDrill, withLabSpares } from '../../lab/drill/run-drill.ts';
import { renderCustomDrill, runCustomDrill, type CustomDrillOptions } from '../../lab/drill/custom.ts';
import { parseFault } from '../../lab/faults.ts';
import { NOTIFY_ONLY, SCENARIO_NAMES } from '../../fleet/schema.ts';
import { VERDICT_KINDS } from '../../health/verdict.ts';
import { repoPath } from '../../util/repo.ts';
import { nearest } from '../../util/suggest.ts';
import { EXIT, UsageError } from '../exit.ts';
import { fleetFileOf, stateFileFrom } from '../options.ts';
import { History } from '../../state/history.ts';

const EXAMPLE_FLEET = repoPath('examples', 'go-speed', 'fleet.yaml');

export function registerDrill(program: Command): void {
  program
    .command('drill')
    .description('Drill a recovery scenario on a lab replica of the fleet (needs root): traffic, fault, recover, report')
    .argument('[scenario]', `one of: ${DRILLS.map((d) => d.name).join(', ')}, or custom (with --auto: any faults, what the daemon does)`)
    .option('--list', 'print the drills, one per line: name, what it does, and on this fleet the faults and recovery (or the role it lacks)')
    .option('-f, --fleet <file>', `fleet file the lab is built from (default: $LIFEBOAT_FLEET, else ./fleet.yaml, else ${relative(process.cwd(), EXAMPLE_FLEET) || EXAMPLE_FLEET})`)
    .option('--json', 'print the report as JSON')
    .option('--keep', 'leave the lab up afterwards')
    .option('--state <path>', 'state file the drill\'s figures are kept in, for the dashboard\'s history (default: $LIFEBOAT_STATE or ~/.lifeboat/state.db)')
    .option('--capture <file.pcap>', "record every packet on the lab's switch into this pcap (from before prepare to the end) and report which secrets and planted database values crossed in clear text")
    .option('--lab-id <id>', 'lab id (default: a fresh random one)')
    .option('--rate <n>', 'user requests per second during the drill', (v) => Number(v), 20)
    .option('--new-backup', "primary-down: the recovery also builds a spare into the new backup app server (recover's --new-backup); the report's standby is then that spare")
    .option('--db-size <MB>', 'grow the database to about this many MB of random rows before prepare (1024: a 1 GB database); the report gives its size and checks the serving database holds every row', (v) => Number(v))
    .option('--operator-link <Mbit>', "shape the operator's host's line to this many Mbit/s each way from the fault on (a home line: what a copy relayed through the operator crosses twice)", (v) => Number(v))
    .option('--backup-age <seconds>', 'drills that restore a backup (both-app-down, total-loss): seconds of traffic between the backup and the fault, written back only by replaying the shipped binary log (default 30)', (v) => Number(v))
    .option('--auto', 'no person involved: the watch daemon (lifeboat serve, policy auto for this scenario) notices the fault and recovers; the report adds the time to notice')
    .option('--kill-daemon-after <seconds>', 'with --auto: SIGKILL the daemon this long after it starts the recovery, start it again, and check it resumes the run from the journal', (v) => Number(v))
    .option('--fault <fault>', "custom: a lab fault as 'KIND ARGS…' (repeatable), e.g. 'partition ops primary', 'ip-blocked edge-1', 'link-down primary'", (v: string, all: string[] = []) => [...all, v])
    .option('--flap <seconds>', 'custom: toggle the faults every this many seconds', (v) => Number(v))
    .option('--hold <seconds>', 'custom: heal the faults after this many seconds', (v) => Number(v))
    .option('--expect <outcome>', `custom: none (no recovery may start) or a scenario (${SCENARIO_NAMES.join(', ')}) that must start and recover`)
    .option('--verdict <kind>', 'custom: a verdict the daemon must reach, e.g. ip-blocked (repeatable)', (v: string, all: string[] = []) => [...all, v])
    .option('--observe <seconds>', 'custom: how long to watch after the fault', (v) => Number(v), 60)
    .addHelpText('after', `
Custom drills ask "what would my daemon do if…": the daemon runs with the fleet's watch
settings and auto for every scenario, the users'-side probe on the lab's client host, e.g.
  lifeboat drill custom --auto --fault 'partition ops primary' --expect none
  lifeboat drill custom --auto --fault 'link-down primary' --flap 3 --observe 60 --expect none
  lifeboat drill custom --auto --fault 'ip-blocked edge-1' --verdict ip-blocked --expect none

Exit codes: 0 the drill passed, 1 it failed (the report says why), 2 bad input.`)
    .action(async (name: string | undefined, given: DrillFlags) => {
      const options = { ...given, fleet: fleetFileOf(given, undefined, { fallback: EXAMPLE_FLEET }) };
      if (options.list) {
        // Each drill on this fleet (with the spares the lab adds): what it would do, or the role it lacks.
        const fleet = withLabSpares(await loadFleet(options.fleet));
        for (const d of DRILLS) {
          let on: string;
          try {
            const cast = d.cast(fleet);
            const back = cast.faults.find((f) => f.kind === 'machine-down');
            on = `${cast.faults.map((f) => `${f.kind} ${'host' in f ? f.host : ''}`.trim()).join(', ')}; recover ${d.scenario ?? d.name} ${cast.recover.join(' ')}` +
              (d.rejoin && back && 'host' in back ? `; power on ${back.host}; recover rejoin --failed ${back.host}` : '');
          } catch (error) {
            if (!(error instanceof DrillRoleError)) throw error;
            on = `not on this fleet: ${error.message}`;
          }
          process.stdout.write(`${d.name}\t${d.describe}\t${on}\n`);
        }
        return;
      }
      if (!name) throw new UsageError(`which drill? lifeboat drill SCENARIO (lifeboat drill --list shows them)`);
      if (name === 'custom') {
        const report = await runCustomDrill(customOptions(options));
        process.stdout.write(options.json ? JSON.stringify(report, null, 2) + '\n' : renderCustomDrill(report));
        process.exitCode = report.ok ? EXIT.ok : EXIT.unhealthy;
        return;
      }
      if (options.capture !== undefined && !existsSync(dirname(resolve(options.capture)))) throw new UsageError(`--capture ${options.capture}: its folder does not exist`);
      for (const flag of ['fault', 'flap', 'hold', 'expect', 'verdict'] as const) {
        if (options[flag] !== undefined) throw new UsageError(`--${flag} belongs to drill custom, not drill ${name}`);
      }
      const spec = drillNamed(name);
      if (!spec) {
        const guess = nearest(name, DRILLS.map((d) => d.name));
        throw new UsageError(`unknown drill \`${name}\`${guess ? ` — did you mean \`${guess}\`?` : ''} (drills: ${DRILLS.map((d) => d.name).join(', ')})`);
      }
      if (!Number.isFinite(options.rate) || options.rate <= 0 || options.rate > 200) throw new UsageError('--rate: expected a number of requests per second in (0, 200]');
      if (options.newBackup && name !== 'primary-down') throw new UsageError(`--new-backup belongs to drill primary-down, not drill ${name}`);
      if (options.newBackup && options.auto) throw new UsageError('--new-backup with --auto: the daemon recovers without building a new backup (policy runs take no spare); drop one of them');
      if (options.dbSize !== undefined && (!Number.isInteger(options.dbSize) || options.dbSize < 1 || options.dbSize > 4096)) throw new UsageError('--db-size: expected whole megabytes in [1, 4096]');
      if (options.operatorLink !== undefined && !(options.operatorLink > 0 && options.operatorLink <= 10_000)) throw new UsageError('--operator-link: expected Mbit/s in (0, 10000]');
      if (options.backupAge !== undefined) {
        if (!Number.isInteger(options.backupAge) || options.backupAge < 1 || options.backupAge > 600) throw new UsageError('--backup-age: expected whole seconds in [1, 600]');
        if (spec.minBackupAgeS === undefined) throw new UsageError(`--backup-age belongs to the drills that restore a backup (${DRILLS.filter((d) => d.minBackupAgeS !== undefined).map((d) => d.name).join(', ')}), not drill ${name}`);
      }
      const report = await runDrill(spec, {
        fleetFile: options.fleet,
        rate: options.rate,
        ...(options.auto ? { auto: true } : {}),
        ...(options.killDaemonAfter !== undefined ? { killDaemonAfterS: killAfter(options) } : {}),
        ...(options.keep ? { keep: true } : {}),
        ...(options.labId ? { labId: options.labId } : {}),
        ...(options.capture ? { capture: resolve(options.capture) } : {}),
        ...(options.backupAge !== undefined ? { backupAgeS: options.backupAge } : {}),
        ...(options.dbSize !== undefined ? { dbSizeMb: options.dbSize } : {}),
        ...(options.operatorLink !== undefined ? { operatorLinkMbit: options.operatorLink } : {}),
        ...(options.newBackup ? { newBackup: true } : {}),
        log: (line) => process.stderr.write(`${line}\n`),
      });
      process.stdout.write(options.json ? JSON.stringify(report, null, 2) + '\n' : renderDrillReport(report));
      process.exitCode = report.ok ? EXIT.ok : EXIT.unhealthy;
      // The figures for the dashboard's history; a state file that cannot be written costs a warning, not the drill.
      try {
        const history = History.open(stateFileFrom(options.state));
        try {
          history.record({ fleet: (await loadFleet(options.fleet)).name, drill: name, at: Date.now(), passed: report.ok, rtoS: report.rtoSeconds, lostWrites: report.lostWrites, auto: report.auto });
        } finally {
          history.close();
        }
      } catch (error) {
        process.stderr.write(`lifeboat: the drill's figures were not kept in the state file: ${(error as Error).message}\n`);
      }
    });
}

interface DrillFlags {
  list?: boolean;
  state?: string;
  fleet?: string;
  json?: boolean;
  keep?: boolean;
  capture?: string;
  labId?: string;
  rate: number;
  backupAge?: number;
  dbSize?: number;
  operatorLink?: number;
  newBackup?: boolean;
  auto?: boolean;
  killDaemonAfter?: number;
  fault?: string[];
  flap?: number;
  hold?: number;
  expect?: string;
  verdict?: string[];
  observe: number;
}

function killAfter(o: DrillFlags): number {
  if (!o.auto) throw new UsageError('--kill-daemon-after needs --auto: there is no daemon to kill otherwise');
  if (!Number.isFinite(o.killDaemonAfter) || o.killDaemonAfter! < 0 || o.killDaemonAfter! > 600) throw new UsageError('--kill-daemon-after: expected seconds in [0, 600]');
  return o.killDaemonAfter!;
}

const seconds = (flag: string, v: number | undefined, max: number) => {
  if (v !== undefined && (!Number.isFinite(v) || v <= 0 || v > max)) throw new UsageError(`--${flag}: expected seconds in (0, ${max}]`);
  return v;
};

/** The custom drill's flags, checked before a lab is built. */
export function customOptions(o: DrillFlags & { fleet: string }): CustomDrillOptions {
  if (!o.auto) throw new UsageError('drill custom needs --auto: it shows what the watch daemon does');
  if (o.killDaemonAfter !== undefined) throw new UsageError('--kill-daemon-after belongs to a scenario drill (e.g. drill primary-down --auto)');
  if (!o.expect) throw new UsageError(`drill custom needs --expect none or --expect SCENARIO (${SCENARIO_NAMES.join(', ')})`);
  if (o.expect !== 'none' && !(SCENARIO_NAMES as readonly string[]).includes(o.expect)) {
    const guess = nearest(o.expect, ['none', ...SCENARIO_NAMES]);
    throw new UsageError(`--expect ${o.expect}: expected none or a scenario${guess ? ` — did you mean \`${guess}\`?` : ''} (${SCENARIO_NAMES.join(', ')})`);
  }
  const kinds = [...VERDICT_KINDS, ...NOTIFY_ONLY, 'flapping'];
  for (const v of o.verdict ?? []) {
    if (!kinds.includes(v)) throw new UsageError(`--verdict ${v}: unknown verdict (${kinds.join(', ')})`);
  }
  const faults = (o.fault ?? []).map((text) => {
    const [kind, ...args] = text.trim().split(/\s+/);
    try {
      return parseFault(kind ?? '', args);
    } catch (error) {
      throw new UsageError(`--fault '${text}': ${(error as Error).message}`);
    }
  });
  const flapS = seconds('flap', o.flap, 600);
  const holdS = seconds('hold', o.hold, 3600);
  const observeS = seconds('observe', o.observe, 3600)!;
  if (flapS !== undefined && holdS !== undefined) throw new UsageError('--flap and --hold: choose one (a flapping fault is healed and injected again by itself)');
  if ((flapS !== undefined || holdS !== undefined) && faults.length === 0) throw new UsageError('--flap and --hold need a --fault');
  return {
    fleetFile: o.fleet, faults, expect: o.expect as CustomDrillOptions['expect'], observeS,
    ...(flapS !== undefined ? { flapS } : {}), ...(holdS !== undefined ? { holdS } : {}),
    ...(o.verdict ? { verdicts: o.verdict } : {}),
    ...(o.keep ? { keep: true } : {}), ...(o.labId ? { labId: o.labId } : {}),
    log: (line) => process.stderr.write(`${line}\n`),
  };
}
