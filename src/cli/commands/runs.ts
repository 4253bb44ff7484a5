/**
 * `lifeboat runs`: the journal of recovery runs — list them, show one with its steps,
 * timings, errors and events, and acknowledge one (lifts the automatic cool-down).
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { Journal, JournalError } from '../../recovery/journal.ts';
import { acknowledge } from '../../recovery/cooldown.ts';
import { renderRunDetail, renderRunList, runToJson } from '../../recovery/render.ts';
import { UsageError } from '../exit.ts';
import { stateFileFrom } from '../options.ts';

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
