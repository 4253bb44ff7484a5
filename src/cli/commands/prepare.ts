/**
 * `lifeboat prepare`: bring the fleet to its prepared state — MariaDB GTID replication with
 * semi-sync, a Redis replica, upload files following the primary, installation files on the
 * backup stores — as journaled, verified steps. `--plan` prints every command, SQL statement
 * and file diff and changes nothing; a second run on a prepared fleet changes nothing and says so.
 */
import type { Command } from 'commander';
import { prepareReport, renderPrepareReport } from '../../prepare/report.ts';
import { PREPARE_PARTS, prepareScenario, type PrepareInput, type PreparePart } from '../../prepare/scenario.ts';
import { runRecovery } from '../../recovery/engine.ts';
import { Journal } from '../../recovery/journal.ts';
import { ttyConfirm } from '../../recovery/prompt.ts';
import { progressPrinter, renderPlan, renderSummary, runToJson } from '../../recovery/render.ts';
import { EXIT, UsageError } from '../exit.ts';
import { fleetFileOf, fleetOption, legacyFleetArgument, stateFileFrom } from '../options.ts';
import { openSession } from '../session.ts';

export interface PrepareCliOptions {
  fleet?: string;
  plan?: boolean;
  yes?: boolean;
  reseed?: boolean;
  only?: string;
  resume?: string;
  json?: boolean;
  state?: string;
  acceptNewHostKeys?: boolean;
}

export function registerPrepare(program: Command): void {
  fleetOption(legacyFleetArgument(program.command('prepare')))
    .description('Bring the fleet to its prepared state: TLS between machines (a private CA, MariaDB and Redis serving it), replication, binlogs shipped to the stores (sealed off-site), Redis replica, stable endpoints, upload sync, installation archives')
    .option('--plan', 'print every command, SQL statement and file diff; change nothing')
    .option('-y, --yes', 'apply every step without asking (the default asks on a terminal)')
    .option('--reseed', "replace a replica's data that does not come from the primary (or a broken replica) with a fresh copy")
    .option('--only <parts>', `comma-separated parts: ${PREPARE_PARTS.join(', ')}`)
    .option('--resume <run>', 'continue a prepare run that stopped')
    .option('--json', 'print the run as JSON at the end')
    .option('--state <path>', 'state file (default: $LIFEBOAT_STATE or ~/.lifeboat/state.db)')
    .option('--accept-new-host-keys', 'add unknown SSH host keys to known_hosts (changed keys are always refused)')
    .addHelpText('after', '\nExit codes: 0 prepared (or planned and every check passed), 1 a step or check failed, 2 bad input.')
    .action(async (file: string | undefined, options: PrepareCliOptions) => {
      process.exitCode = await prepare({ ...options, fleet: fleetFileOf(options, file) });
    });
}

function parseParts(only: string | undefined): PreparePart[] | undefined {
  if (!only) return undefined;
  const parts = only.split(',').map((p) => p.trim()).filter(Boolean);
  const unknown = parts.filter((p) => !(PREPARE_PARTS as readonly string[]).includes(p));
  if (unknown.length) throw new UsageError(`--only: unknown part ${unknown.join(', ')} (parts: ${PREPARE_PARTS.join(', ')})`);
  return parts as PreparePart[];
}

export async function prepare(options: PrepareCliOptions): Promise<number> {
  const out = (text: string) => (options.json ? process.stderr : process.stdout).write(text);
  const parts = parseParts(options.only);
  const mode = options.plan ? 'plan' : options.yes ? 'auto' : 'confirm';
  if (mode === 'confirm' && !process.stdin.isTTY) {
    throw new UsageError('not a terminal, so nobody can confirm each step: pass --yes to apply without questions, or --plan to see the plan');
  }
  const session = await openSession(fleetFileOf(options), {
    acceptNewHostKeys: options.acceptNewHostKeys ?? false,
    log: (line) => process.stderr.write(`    ${line}\n`),
  });
  try {
    const stateFile = stateFileFrom(options.state);
    const journal = Journal.open(stateFile);
    const prompt = mode === 'confirm' ? ttyConfirm(process.stdin, process.stderr) : undefined;
    try {
      // `failed` is the recovery engine's field; prepare recovers from nothing.
      const input: PrepareInput = { failed: '', ...(options.reseed ? { reseed: true } : {}), ...(parts ? { parts } : {}) };
      const run = await runRecovery({
        scenario: prepareScenario(),
        input,
        ctx: session.ctx,
        mode,
        journal,
        ...(prompt ? { confirm: prompt.confirm } : {}),
        ...(options.resume ? { resumeRunId: journal.resolveId(options.resume) } : {}),
        onProgress: progressPrinter(out),
      });
      const report = prepareReport(run);
      out('\n' + (run.outcome === 'planned' ? renderPlan(run) : renderSummary(run)));
      out('\n' + renderPrepareReport(run, report));
      if (options.json) process.stdout.write(JSON.stringify({ ...runToJson(run), prepare: report }, null, 2) + '\n');
      const checksFailed = run.steps.some((s) => s.state === 'failed');
      return run.outcome === 'recovered' || (run.outcome === 'planned' && !checksFailed) ? EXIT.ok : EXIT.unhealthy;
    } finally {
      prompt?.close();
      journal.close();
    }
  } finally {
    await session.close();
  }
}
