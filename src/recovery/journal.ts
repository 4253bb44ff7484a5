/**
 * The append-only record of every recovery run, persisted as it happens (orchestrator
 * style): a `runs` row, one `steps` row per runbook line whose state moves forward, and
 * an `events` row for every transition so the audit trail survives later updates.
 * Everything written passes through `redact.ts`; every statement is parameterised.
 */
import { hostname } from 'node:os';
import type { Change } from '../actions/action.ts';
import { newRunId } from '../state/ids.ts';
import type { Statement } from 'better-sqlite3';
import { openState, type OpenStateOptions, type StateDb } from '../state/db.ts';
import { redactChange } from '../actions/redact-change.ts';
import { redactText, redactValue } from '../util/redact.ts';
import {
  readRun, readRuns, type RunMode, type RunOutcome, type RunRecord, type RunSummary, type StepState,
} from './journal-read.ts';

export * from './journal-read.ts';

export interface StepInit {
  index: number;
  /** Index of the parallel group this step belongs to, if any. */
  parent: number | null;
  title: string;
  machines: readonly string[];
  mutating: boolean;
  undoable: boolean;
}

export interface RunInit {
  scenario: string;
  input: unknown;
  mode: RunMode;
  fleet?: string;
  /** Started by the daemon's policy rather than a person: counts for the cool-down. */
  automatic?: boolean;
  followUps?: readonly string[];
  steps: readonly StepInit[];
}

export class JournalError extends Error {
  override name = 'JournalError';
  /** Every journal refusal is about what the operator asked for: the CLI exits 2. */
  readonly exitCode = 2;
  constructor(readonly code: 'run-not-found' | 'run-ambiguous' | 'not-resumable' | 'run-active', message: string) {
    super(message);
  }
}

export interface StepFailure {
  message: string;
  /** The ActionError code (or the engine's) so tools never parse the message. */
  code?: string;
}

const FINAL_STEP_STATES: ReadonlySet<StepState> = new Set(['verified', 'failed', 'skipped', 'undone']);

/** This process, as recorded in `runs.owner`. */
export const THIS_PROCESS = `${hostname()}:${process.pid}`;

export class Journal {
  /** Prepared once per journal: compiling SQL was most of a step's journaling cost. */
  private readonly statements = new Map<string, Statement>();

  constructor(
    readonly db: StateDb,
    private readonly now: () => number = Date.now,
  ) {}

  private sql(text: string): Statement {
    let statement = this.statements.get(text);
    if (!statement) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  static open(path: string, options?: OpenStateOptions & { now?: () => number }): Journal {
    return new Journal(openState(path, options), options?.now);
  }

  /** Runs not ended: either alive in some process, or interrupted and waiting for resume. */
  unfinishedRuns(): RunSummary[] {
    return this.runs().filter((r) => r.outcome === 'running');
  }

  /**
   * Runs of `fleet` that changed something and have not ended (failed, aborted, killed or
   * still running): a new run next to one of them could undo or double its work.
   */
  inProgress(fleet: string): RunSummary[] {
    const changed = new Set<StepState>(['applying', 'applied', 'verified', 'failed']);
    return this.runs()
      .filter((r) => r.fleet === fleet && (r.outcome === 'running' || r.outcome === 'failed' || r.outcome === 'aborted'))
      .filter((r) => this.run(r.id).steps.some((s) => s.mutating && changed.has(s.state)));
  }

  /** A resumed run's input with what a person added now (`--confirm-fenced`), with an event. */
  amendInput(runId: string, input: unknown): void {
    this.db.transaction(() => {
      this.sql(`UPDATE runs SET input = ? WHERE id = ?`).run(JSON.stringify(redactValue(input) ?? null), runId);
      this.insertEvent(runId, null, 'input-amended', null, this.now());
    })();
  }

  /** A person declares a stopped run dead: it is never resumed, and no longer blocks new runs. */
  abandon(runId: string, by: string): void {
    const run = this.run(runId);
    if (run.outcome === 'running' && ownerIsAlive(run.owner)) {
      throw new JournalError('run-active', `run ${runId} is still being run by process ${run.owner}; stop that process first`);
    }
    if (!isResumable(run)) throw new JournalError('not-resumable', `run ${runId} already ended: ${run.outcome}`);
    this.finishRun(run.id, 'abandoned', `abandoned by ${by}`);
  }

  /** A person refused a plan the daemon made under a confirm policy: it is never run. */
  reject(runId: string, by: string): void {
    const run = this.run(runId);
    if (run.outcome !== 'planned') throw new JournalError('not-resumable', `run ${runId} is ${run.outcome}, not a plan waiting for approval`);
    this.acknowledge(run.id, by, 'rejected');
    this.finishRun(run.id, 'abandoned', `rejected by ${by}`);
  }

  close(): void {
    this.db.close();
  }

  createRun(init: RunInit): string {
    const id = newRunId(this.now());
    const at = this.now();
    const insertStep = this.sql(
      `INSERT INTO steps (run_id, idx, parent, title, machines, mutating, undoable) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    this.db.transaction(() => {
      this.sql(
          `INSERT INTO runs (id, scenario, input, mode, fleet, automatic, follow_ups, started_at, owner) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(id, init.scenario, JSON.stringify(redactValue(init.input) ?? null), init.mode, init.fleet ?? null,
          init.automatic ? 1 : 0, JSON.stringify((init.followUps ?? []).map(redactText)), at, THIS_PROCESS);
      for (const s of init.steps) {
        insertStep.run(id, s.index, s.parent, redactText(s.title), JSON.stringify(s.machines), s.mutating ? 1 : 0, s.undoable ? 1 : 0);
      }
      this.insertEvent(id, null, 'run-started', `${init.scenario} (${init.mode})`, at);
    })();
    return id;
  }

  /**
   * Marks a stopped run as running in this process; refuses a run that finished, and a
   * run whose process on this host is still alive (two processes must never drive one run).
   */
  reopenRun(runId: string, mode: RunMode): void {
    this.db.transaction(() => {
      const run = this.run(runId);
      if (!isResumable(run)) {
        throw new JournalError('not-resumable', `run ${runId} ${run.outcome === 'planned' ? 'was only a plan' : `already ended: ${run.outcome}`}; start a new run`);
      }
      if (run.outcome === 'running' && ownerIsAlive(run.owner)) {
        throw new JournalError('run-active', `run ${runId} is still being run by process ${run.owner}; wait for it or stop that process`);
      }
      this.sql(`UPDATE runs SET outcome = 'running', ended_at = NULL, error = NULL, owner = ? WHERE id = ?`).run(THIS_PROCESS, run.id);
      this.insertEvent(run.id, null, 'run-resumed', `${mode}, was ${run.outcome}${run.owner ? ` in ${run.owner}` : ''}`, this.now());
    }).immediate();
  }

  stepPlanned(runId: string, index: number, changes: readonly Change[]): void {
    const safe = changes.map(redactChange);
    this.db.transaction(() => {
      this.sql(`UPDATE steps SET changes = ? WHERE run_id = ? AND idx = ?`).run(JSON.stringify(safe), runId, index);
      this.insertEvent(runId, index, 'planned', `${safe.length} change(s)`, this.now());
    })();
  }

  /**
   * Moves a step to `state`; `applying` counts one more application of its actions.
   * `start` marks the moment this process began working on the step (its timing starts).
   */
  stepState(runId: string, index: number, state: StepState, details: { error?: StepFailure; start?: boolean } = {}): void {
    const at = this.now();
    const error = details.error ? redactText(details.error.message) : null;
    this.db.transaction(() => {
      this.sql(
          `UPDATE steps SET state = ?,
             applications = applications + ?,
             started_at = CASE WHEN ? THEN ? ELSE COALESCE(started_at, ?) END,
             ended_at = CASE WHEN ? THEN ended_at ELSE ? END,
             error = ?, error_code = ?
           WHERE run_id = ? AND idx = ?`,
        )
        // An undone step keeps the timing of when it was applied.
        .run(state, state === 'applying' ? 1 : 0, details.start ? 1 : 0, at, at, state === 'undone' ? 1 : 0, FINAL_STEP_STATES.has(state) ? at : null,
          error, details.error?.code ?? null, runId, index);
      this.insertEvent(runId, index, state, error, at);
    })();
  }

  /** Progress lines an action logged while the step ran. */
  stepOutput(runId: string, index: number, line: string): void {
    this.sql(`UPDATE steps SET output = output || ? WHERE run_id = ? AND idx = ?`)
      .run(`${redactText(line)}\n`, runId, index);
  }

  event(runId: string, step: number | null, event: string, detail?: string): void {
    this.insertEvent(runId, step, event, detail === undefined ? null : redactText(detail), this.now());
  }

  finishRun(runId: string, outcome: Exclude<RunOutcome, 'running'>, error?: string): void {
    const at = this.now();
    this.db.transaction(() => {
      this.sql(`UPDATE runs SET outcome = ?, ended_at = ?, error = ? WHERE id = ?`)
        .run(outcome, at, error === undefined ? null : redactText(error), runId);
      this.insertEvent(runId, null, `run-${outcome}`, error === undefined ? null : redactText(error), at);
    })();
  }

  /** A person has seen this run; an automatic recovery inside its cool-down may go ahead. */
  acknowledge(runId: string, by: string, comment?: string): void {
    const id = this.resolveId(runId);
    const at = this.now();
    this.db.transaction(() => {
      this.sql(`INSERT INTO acknowledgements (run_id, at, by, comment) VALUES (?, ?, ?, ?)`)
        .run(id, at, by, comment === undefined ? null : redactText(comment));
      this.insertEvent(id, null, 'acknowledged', `by ${by}`, at);
    })();
  }

  /** A run by full id or unique prefix (as an operator types it). */
  run(idOrPrefix: string): RunRecord {
    return readRun(this.db, this.resolveId(idOrPrefix));
  }

  runs(options: { limit?: number; automatic?: boolean } = {}): RunSummary[] {
    return readRuns(this.db, options);
  }

  resolveId(idOrPrefix: string): string {
    const rows = this.sql(`SELECT id FROM runs WHERE id = ? OR substr(id, 1, ?) = ? ORDER BY id LIMIT 3`)
      .all(idOrPrefix, idOrPrefix.length, idOrPrefix) as { id: string }[];
    const exact = rows.find((r) => r.id === idOrPrefix);
    if (exact) return exact.id;
    if (rows.length === 0) throw new JournalError('run-not-found', `no run with id ${idOrPrefix} (list them with \`lifeboat runs\`)`);
    if (rows.length > 1) throw new JournalError('run-ambiguous', `${idOrPrefix} matches several runs (${rows.map((r) => r.id).join(', ')}…); type more of the id`);
    return rows[0]!.id;
  }

  private insertEvent(runId: string, step: number | null, event: string, detail: string | null, at: number): void {
    this.sql(`INSERT INTO events (run_id, at, step, event, detail) VALUES (?, ?, ?, ?, ?)`).run(runId, at, step, event, detail);
  }
}

/** Alive when it is this process, or a process of this host that still exists. */
function ownerIsAlive(owner: string | null): boolean {
  if (owner === null) return false;
  const at = owner.lastIndexOf(':');
  const host = owner.slice(0, at);
  const pid = Number(owner.slice(at + 1));
  if (owner === THIS_PROCESS) return true;
  // Another host's process cannot be probed; the state file is local to one controller.
  if (host !== hostname() || !Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Stopped runs (crashed, failed, declined) may resume; recovered, undone runs and plans may not. */
export function isResumable(run: RunSummary): boolean {
  return run.outcome !== 'recovered' && run.outcome !== 'planned' && run.outcome !== 'undone' && run.outcome !== 'abandoned';
}

/** True while the process that runs `run` is alive (see `reopenRun`). */
export function isActive(run: RunSummary): boolean {
  return run.outcome === 'running' && ownerIsAlive(run.owner);
}
