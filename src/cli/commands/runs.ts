/**
 * `lifeboat runs`: the journal of recovery runs — list them, show one with its steps,
 * timings, errors and events, acknowledge one (lifts the automatic cool-down), and undo
 * what a stopped run changed.
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { Journal, JournalError } from '../../recovery/journal.ts';
import { acknowledge } from '../../recovery/cooldown.ts';
import { askYesNo } from '../../recovery/prompt.ts';
import { renderRunDetail, renderRunList, renderSummary, runToJson } from '../../recovery/render.ts';
import { scenarioNamed } from '../../recovery/scenarios/index.ts';
import { stepLabels } from '../../recovery/step.ts';
import { undoRun } from '../../recovery/undo.ts';
import { EXIT, UsageError } from '../exit.ts';
import { FLEET_HELP, fleetFileOf, stateFileFrom } from '../options.ts';
import { removeMarker } from '../../recovery/run-lock.ts';
import { openSession } from '../session.ts';

const STATE_HELP = 'state file (default: $LIFEBOAT_STATE or ~/.lifeboat/state.db)';

export function registerRuns(program: Command): void {
  const runs = program
    .command('runs')
    .description('The journal of recovery runs: list, show one, acknowledge one');

  runs
    .command('list', { isDefault: true })
    .description('List recovery runs, newest first')
    .option('--json', 'print the runs as JSON')
    .option('--state <path>', STATE_HELP)
    .option('--limit <n>', 'show at most this many runs', parseLimit, 50)
    .action((options: { json?: boolean; state?: string; limit: number }) => {
      const journal = openJournal(options.state, false);
      const list = journal ? journal.runs({ limit: options.limit }) : [];
      journal?.close();
      if (options.json) {
        process.stdout.write(JSON.stringify(list.map((r) => ({ ...r, startedAt: iso(r.startedAt), endedAt: iso(r.endedAt) })), null, 2) + '\n');
      } else {
        process.stdout.write(renderRunList(list));
      }
    });

  runs
    .command('show')
    .description('Show one run: steps, timings, outcome, errors, changes and the event log')
    .argument('<id>', 'run id, or a unique prefix of it')
    .option('--json', 'print the run as JSON')
    .option('--state <path>', STATE_HELP)
    .addHelpText('after', '\nExit codes: 0 shown, 2 no such run.')
    .action((id: string, options: { json?: boolean; state?: string }) => {
      const journal = openJournal(options.state, true)!;
      try {
        const run = withUsageErrors(() => journal.run(id));
        process.stdout.write(options.json ? JSON.stringify(runToJson(run), null, 2) + '\n' : renderRunDetail(run));
      } finally {
        journal.close();
      }
    });

  runs
    .command('ack')
    .description('Acknowledge a run: a person has seen it, so the cool-down after an automatic recovery is lifted')
    .argument('<id>', 'run id, or a unique prefix of it')
    .requiredOption('--by <name>', 'who acknowledges (recorded in the journal)')
    .option('--comment <text>', 'why, for the audit trail')
    .option('--state <path>', STATE_HELP)
    .action((id: string, options: { by: string; comment?: string; state?: string }) => {
      const path = stateFileFrom(options.state);
      if (!existsSync(path)) throw new UsageError(`no state file at ${path}: no run has been recorded there`);
      const journal = Journal.open(path);
      try {
        const runId = withUsageErrors(() => journal.resolveId(id));
        acknowledge(journal, runId, options.by, options.comment);
        process.stdout.write(`run ${runId} acknowledged by ${options.by}\n`);
      } finally {
        journal.close();
      }
    });

  runs
    .command('abandon')
    .description('Declare a stopped run dead: it is never resumed, no longer blocks new runs, and its markers on the machines are removed')
    .argument('<id>', 'run id, or a unique prefix of it')
    .requiredOption('--by <name>', 'who abandons it (recorded in the journal)')
    .option('-f, --fleet <file>', `${FLEET_HELP}; the run's markers are removed from its machines`)
    .option('--state <path>', STATE_HELP)
    .option('--accept-new-host-keys', 'add unknown SSH host keys to known_hosts (changed keys are always refused)')
    .addHelpText('after', '\nExit codes: 0 abandoned and every reachable marker removed, 1 a machine could not be asked, 2 no such run or it already ended.')
    .action(async (id: string, options: { by: string; fleet?: string; state?: string; acceptNewHostKeys?: boolean }) => {
      process.exitCode = await abandon(id, options);
    });

  runs
    .command('undo')
    .description("Put back what a stopped run changed, newest step first, with each action's own undo")
    .argument('<id>', 'run id, or a unique prefix of it')
    .option('-f, --fleet <file>', FLEET_HELP)
    .option('--partial', 'undo what can be undone even if some changed steps cannot be')
    .option('-y, --yes', 'do not ask before undoing')
    .option('--state <path>', STATE_HELP)
    .option('--accept-new-host-keys', 'add unknown SSH host keys to known_hosts (changed keys are always refused)')
    .addHelpText('after', '\nExit codes: 0 undone, 1 an undo failed, 2 the run cannot be undone (or no such run).')
    .action(async (id: string, options: UndoCommandOptions) => {
      process.exitCode = await undo(id, options);
    });
}

async function abandon(id: string, options: { by: string; fleet?: string; state?: string; acceptNewHostKeys?: boolean }): Promise<number> {
  const path = stateFileFrom(options.state);
  const journal = existsSync(path) ? Journal.open(path) : undefined;
  try {
    // A run started on another operator's machine is not in this journal: its markers can
    // still be removed here, by its id, once a person has decided it is dead.
    let runId = id;
    if (journal) {
      try {
        runId = journal.resolveId(id);
      } catch (error) {
        // Not recorded here (started on another operator's machine): only its markers go.
        if (!(error instanceof JournalError && error.code === 'run-not-found')) throw error;
      }
    }
    const known = journal?.runs().some((r) => r.id === runId) ?? false;
    if (known) withUsageErrors(() => journal!.abandon(runId, options.by));
    const session = await openSession(fleetFileOf(options), { acceptNewHostKeys: options.acceptNewHostKeys ?? false });
    try {
      const results = await Promise.all(
        session.fleet.machines.map(async (m) => {
          try {
            return { machine: m.name, removed: await removeMarker(session.ctx, m.name, runId) };
          } catch (error) {
            return { machine: m.name, error: (error as Error).message };
          }
        }),
      );
      const removed = results.filter((r) => r.removed).map((r) => r.machine);
      const failed = results.filter((r) => r.error);
      process.stdout.write(
        `run ${runId} ${known ? `abandoned by ${options.by}` : 'is not in this journal'}; markers removed from: ${removed.join(', ') || 'none'}\n` +
          failed.map((f) => `  could not ask ${f.machine}: ${f.error}\n`).join(''),
      );
      if (!known && removed.length === 0) throw new UsageError(`no run ${id} in ${path} and no marker of it on any machine`);
      return failed.length ? EXIT.unhealthy : EXIT.ok;
    } finally {
      await session.close();
    }
  } finally {
    journal?.close();
  }
}

interface UndoCommandOptions {
  fleet?: string;
  partial?: boolean;
  yes?: boolean;
  state?: string;
  acceptNewHostKeys?: boolean;
}

async function undo(id: string, options: UndoCommandOptions): Promise<number> {
  const path = stateFileFrom(options.state);
  if (!existsSync(path)) throw new UsageError(`no state file at ${path}: no run has been recorded there`);
  const journal = Journal.open(path);
  try {
    const run = journal.run(id);
    const scenario = scenarioNamed(run.scenario);
    if (!scenario) throw new UsageError(`run ${run.id} is a ${run.scenario} run, a scenario this lifeboat does not know`);
    const labels = stepLabels(run.steps);
    const touched = run.steps.filter((s) => s.mutating && ['applying', 'applied', 'verified', 'failed'].includes(s.state)
      && !run.steps.some((c) => c.parent === s.index));
    if (touched.length === 0) {
      process.stdout.write(`run ${run.id} changed nothing: nothing to undo\n`);
      return EXIT.ok;
    }
    if (!options.yes) {
      if (!process.stdin.isTTY) throw new UsageError('not a terminal, so nobody can confirm: pass --yes to undo without asking');
      const list = touched.reverse().map((s) => `  ${labels.get(s.index)}. ${s.title}${s.undoable ? '' : '  (cannot be undone)'}`).join('\n');
      if (!(await askYesNo(process.stdin, process.stderr, `Undo these steps of run ${run.id}, in this order?\n${list}\n`))) return EXIT.unhealthy;
    }
    const session = await openSession(fleetFileOf(options), { acceptNewHostKeys: options.acceptNewHostKeys ?? false });
    try {
      const after = await undoRun({ scenario, ctx: session.ctx, journal, runId: run.id, partial: options.partial ?? false });
      process.stdout.write(renderSummary(after));
      return after.outcome === 'undone' ? EXIT.ok : EXIT.unhealthy;
    } finally {
      await session.close();
    }
  } finally {
    journal.close();
  }
}

/** Read-only: listing or showing runs must not create a state file as a side effect. */
function openJournal(state: string | undefined, required: boolean): Journal | undefined {
  const path = stateFileFrom(state);
  if (!existsSync(path)) {
    if (required) throw new UsageError(`no state file at ${path}: no run has been recorded there (use --state to read another)`);
    return undefined;
  }
  return Journal.open(path, { readonly: true });
}

function withUsageErrors<T>(work: () => T): T {
  try {
    return work();
  } catch (error) {
    if (error instanceof JournalError && (error.code === 'run-not-found' || error.code === 'run-ambiguous')) {
      throw new UsageError(error.message);
    }
    throw error;
  }
}

function parseLimit(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--limit wants a whole number above 0, got ${value}`);
  return n;
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
