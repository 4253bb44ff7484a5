/** Typed records read back from the journal tables (see `state/db.ts` for the schema). */
import type { Change } from '../actions/action.ts';
import type { StateDb } from '../state/db.ts';

export type RunMode = 'plan' | 'confirm' | 'auto';
/** `running` also means "the process died": the run then waits to be resumed. */
/** `abandoned`: a person declared a stopped run dead (`lifeboat runs abandon`): never resumed. */
export type RunOutcome = 'running' | 'recovered' | 'failed' | 'aborted' | 'planned' | 'undone' | 'abandoned';
export type StepState = 'pending' | 'applying' | 'applied' | 'verified' | 'failed' | 'skipped' | 'undone';

export interface StepRecord {
  index: number;
  parent: number | null;
  title: string;
  machines: string[];
  mutating: boolean;
  undoable: boolean;
  state: StepState;
  /** How many times `apply` was started (more than 1 only after a crash mid-apply). */
  applications: number;
  startedAt: number | null;
  endedAt: number | null;
  output: string;
  error: string | null;
  errorCode: string | null;
  changes: Change[];
}

export interface EventRecord {
  id: number;
  at: number;
  step: number | null;
  event: string;
  detail: string | null;
}

export interface Acknowledgement {
  at: number;
  by: string;
  comment: string | null;
}

export interface RunSummary {
  id: string;
  scenario: string;
  input: unknown;
  mode: RunMode;
  fleet: string | null;
  automatic: boolean;
  followUps: string[];
  startedAt: number;
  endedAt: number | null;
  outcome: RunOutcome;
  error: string | null;
  /** `host:pid` of the process that last ran it. */
  owner: string | null;
}

export interface RunRecord extends RunSummary {
  steps: StepRecord[];
  events: EventRecord[];
  acknowledgements: Acknowledgement[];
}

interface RunRow {
  id: string; scenario: string; input: string; mode: RunMode; fleet: string | null; automatic: number;
  follow_ups: string; started_at: number; ended_at: number | null; outcome: RunOutcome; error: string | null;
  owner: string | null;
}

interface StepRow {
  idx: number; parent: number | null; title: string; machines: string; mutating: number; undoable: number;
  state: StepState; applications: number; started_at: number | null; ended_at: number | null; output: string;
  error: string | null; error_code: string | null; changes: string;
}

export function readRuns(db: StateDb, options: { limit?: number; automatic?: boolean }): RunSummary[] {
  const rows = db
    .prepare(`SELECT * FROM runs WHERE (? IS NULL OR automatic = ?) ORDER BY id DESC LIMIT ?`)
    .all(options.automatic === undefined ? null : 1, options.automatic ? 1 : 0, options.limit ?? -1) as RunRow[];
  return rows.map(toSummary);
}

/** The caller has resolved `id` to an existing run. */
export function readRun(db: StateDb, id: string): RunRecord {
  const row = db.prepare(`SELECT * FROM runs WHERE id = ?`).get(id) as RunRow;
  const steps = db.prepare(`SELECT * FROM steps WHERE run_id = ? ORDER BY idx`).all(id) as StepRow[];
  const events = db.prepare(`SELECT id, at, step, event, detail FROM events WHERE run_id = ? ORDER BY id`).all(id) as EventRecord[];
  const acknowledgements = db
    .prepare(`SELECT at, by, comment FROM acknowledgements WHERE run_id = ? ORDER BY at`)
    .all(id) as Acknowledgement[];
  return { ...toSummary(row), steps: steps.map(toStep), events, acknowledgements };
}

function toSummary(r: RunRow): RunSummary {
  return {
    id: r.id,
    scenario: r.scenario,
    input: JSON.parse(r.input) as unknown,
    mode: r.mode,
    fleet: r.fleet,
    automatic: r.automatic === 1,
    followUps: JSON.parse(r.follow_ups) as string[],
    startedAt: r.started_at,
    endedAt: r.ended_at,
    outcome: r.outcome,
    error: r.error,
    owner: r.owner,
  };
}

function toStep(r: StepRow): StepRecord {
  return {
    index: r.idx,
    parent: r.parent,
    title: r.title,
    machines: JSON.parse(r.machines) as string[],
    mutating: r.mutating === 1,
    undoable: r.undoable === 1,
    state: r.state,
    applications: r.applications,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    output: r.output,
    error: r.error,
    errorCode: r.error_code,
    changes: JSON.parse(r.changes) as Change[],
  };
}
