/**
 * How a run reads for people (terminal) and for tools (`--json`). Everything rendered
 * comes from the journal, which is already redacted, so nothing here can print a secret
 * that the journal did not keep.
 */
import { renderChange } from '../actions/action.ts';
import type { ProgressEvent, StepProgress } from './engine.ts';
import type { RunRecord, RunSummary, StepRecord, StepState } from './journal.ts';
import { stepLabels } from './step.ts';
import type { RolesOutcome } from './start.ts';

const MARK: Record<StepProgress | StepState, string> = {
  verified: '✓', 'done-before': '✓', 'already-there': '✓', failed: '✗', planned: '○', skipped: '–',
  pending: '·', applying: '…', applied: '…', undone: '↶',
};

/** `0.18 s`, `12.4 s`, `3 min 05 s`. */
export function formatDuration(ms: number): string {
  if (ms < 10_000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}

function stepLine(mark: string, time: string, title: string, depth: number): string {
  return `${'  '.repeat(depth + 1)}${mark} ${time.padStart(6)}  ${title}`;
}

/** Live progress: one line per finished step, as `  ✓ 0.18 s  Promote the replica on backup`. */
export function progressPrinter(write: (text: string) => void): (event: ProgressEvent) => void {
  return (event) => {
    switch (event.type) {
      case 'run-started':
        write(`${event.resumed ? 'Resuming' : 'Running'} ${event.scenario} (${event.mode}), run ${event.runId}\n`);
        break;
      case 'group-started':
        write(stepLine('⇉', '', `${event.title} (in parallel)`, 0) + '\n');
        break;
      case 'step-finished': {
        const time = event.outcome === 'done-before' ? 'done' : event.outcome === 'planned' || event.outcome === 'skipped'
          ? '' : formatDuration(event.ms);
        const note = event.outcome === 'already-there' ? '  (found done on resume)' : '';
        write(stepLine(MARK[event.outcome], time, event.title, event.parent === null ? 0 : 1) + note + '\n');
        if (event.error) write(`${'  '.repeat(event.parent === null ? 3 : 4)}${event.error}\n`);
        break;
      }
      case 'group-finished':
        write(stepLine(event.ok ? '✓' : '✗', formatDuration(event.ms), `${event.title} (all)`, 0) + '\n');
        break;
      case 'run-finished':
        break;
    }
  };
}

export function stepDuration(step: StepRecord): number | null {
  return step.startedAt !== null && step.endedAt !== null ? step.endedAt - step.startedAt : null;
}

/** The plan as text: every step with the exact commands, SQL and diffs it would run. */
export function renderPlan(run: RunRecord): string {
  const lines = [`Plan for ${run.scenario} (run ${run.id}) — nothing below has been applied`];
  const labels = stepLabels(run.steps);
  for (const step of run.steps) {
    const depth = step.parent === null ? 1 : 2;
    const pad = '  '.repeat(depth);
    const kind = step.mutating ? '' : step.state === 'verified' ? '  [check: passed]' : step.state === 'failed' ? '  [check: FAILED]' : '  [check]';
    lines.push(`${pad}${labels.get(step.index)}. ${step.title}${machinesOf(step)}${kind}`);
    if (step.error) lines.push(`${pad}   ! ${step.error}`);
    for (const change of step.changes) lines.push(indent(renderChange(change), `${pad}   `));
  }
  return lines.join('\n') + '\n';
}

/** The end of a run: time to recover, what changed, and what a person still has to do. */
export function renderSummary(run: RunRecord): string {
  const lines: string[] = [];
  const total = run.endedAt === null ? null : run.endedAt - run.startedAt;
  const took = total === null ? '' : ` in ${formatDuration(total)}`;
  const verdict: Record<RunSummary['outcome'], string> = {
    recovered: `recovered${took}`, failed: `FAILED${took}`, aborted: `stopped${took}`, planned: 'planned only, nothing applied',
    running: 'still running or interrupted', undone: `undone${took}`, abandoned: 'abandoned by a person',
  };
  lines.push(`${run.scenario}: ${verdict[run.outcome]} (run ${run.id})`);
  for (const step of run.steps) {
    const ms = stepDuration(step);
    lines.push(stepLine(MARK[step.state], ms === null ? '' : formatDuration(ms), step.title, step.parent === null ? 0 : 1));
  }
  if (run.error) lines.push('', `Error: ${run.error}`);
  const leaves = run.steps.filter((s) => !hasChildren(run, s));
  const changed = leaves.filter((s) => s.mutating && s.state === 'verified' && s.changes.length > 0);
  if (changed.length && run.outcome !== 'planned') {
    lines.push('', 'What changed:');
    for (const step of changed) for (const change of step.changes) lines.push(indent(renderChange(change), '  '));
  }
  if (run.outcome === 'failed' || run.outcome === 'aborted' || run.outcome === 'running') {
    lines.push('', `The run can be resumed after the cause is fixed: lifeboat recover ${run.scenario} --resume ${run.id}`);
    const undoable = leaves.filter((s) => s.undoable && ['verified', 'applied', 'applying', 'failed'].includes(s.state));
    const labels = stepLabels(run.steps);
    if (undoable.length) lines.push(`Steps that can be undone: ${undoable.map((s) => labels.get(s.index)).join(', ')}`);
  }
  // Follow-ups describe the fleet after a recovery; a refused or failed run did not change it so.
  if (run.followUps.length && run.outcome === 'recovered') {
    lines.push('', 'What the operator still has to do:');
    for (const item of run.followUps) lines.push(`  - ${item}`);
  }
  return lines.join('\n') + '\n';
}

/** `lifeboat runs`: one line per run, newest first. */
export function renderRunList(runs: readonly RunSummary[]): string {
  if (runs.length === 0) return 'No recovery runs recorded.\n';
  const rows = runs.map((r) => [
    r.id, new Date(r.startedAt).toISOString().replace('T', ' ').slice(0, 19), r.scenario, r.mode + (r.automatic ? ' (auto)' : ''),
    r.outcome, r.endedAt === null ? '' : formatDuration(r.endedAt - r.startedAt),
  ]);
  const header = ['ID', 'STARTED (UTC)', 'SCENARIO', 'MODE', 'OUTCOME', 'TOOK'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** `lifeboat runs show ID`: the summary, then every step's output and the event log. */
export function renderRunDetail(run: RunRecord): string {
  const lines = [renderSummary(run).trimEnd(), '', `Input: ${JSON.stringify(run.input)}`, `Fleet: ${run.fleet ?? '-'}`];
  const labels = stepLabels(run.steps);
  for (const step of run.steps) {
    if (!step.output && !step.error) continue;
    lines.push('', `Step ${labels.get(step.index)} ${step.title} [${step.state}${step.errorCode ? `, ${step.errorCode}` : ''}]`);
    if (step.error) lines.push(`  error: ${step.error}`);
    if (step.output) lines.push(indent(step.output.trimEnd(), '  | '));
  }
  lines.push('', 'Events:');
  for (const e of run.events) {
    const at = new Date(e.at).toISOString().slice(11, 23);
    lines.push(`  ${at}  ${(e.step === null ? '' : labels.get(e.step) ?? '?').padEnd(5)}  ${e.event}${e.detail ? `  ${e.detail}` : ''}`);
  }
  for (const a of run.acknowledgements) {
    lines.push(`Acknowledged by ${a.by} at ${new Date(a.at).toISOString()}${a.comment ? `: ${a.comment}` : ''}`);
  }
  return lines.join('\n') + '\n';
}

/** The `--json` form: stable field names, ISO times and durations in milliseconds. */
export function runToJson(run: RunRecord): object {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: run.id, scenario: run.scenario, input: run.input, mode: run.mode, fleet: run.fleet, automatic: run.automatic,
    startedAt: iso(run.startedAt), endedAt: iso(run.endedAt),
    durationMs: run.endedAt === null ? null : run.endedAt - run.startedAt,
    outcome: run.outcome, error: run.error, followUps: run.followUps,
    steps: run.steps.map((s) => ({
      index: s.index, parent: s.parent, title: s.title, machines: s.machines, mutating: s.mutating, undoable: s.undoable,
      state: s.state, applications: s.applications, startedAt: iso(s.startedAt), endedAt: iso(s.endedAt),
      durationMs: stepDuration(s), output: s.output, error: s.error, errorCode: s.errorCode, changes: s.changes,
    })),
    events: run.events.map((e) => ({ at: iso(e.at), step: e.step, event: e.event, detail: e.detail })),
    acknowledgements: run.acknowledgements.map((a) => ({ at: iso(a.at), by: a.by, comment: a.comment })),
  };
}

function hasChildren(run: RunRecord, step: StepRecord): boolean {
  return run.steps.some((s) => s.parent === step.index);
}

function machinesOf(step: StepRecord): string {
  return step.machines.length ? `  (${step.machines.join(', ')})` : '';
}

function indent(text: string, pad: string): string {
  return text.split('\n').map((l) => pad + l).join('\n');
}

/** What a recovered run changed in the fleet file, or why the file could not be changed. */
export function renderRoles(roles: RolesOutcome | undefined): string {
  if (!roles) return '';
  if ('error' in roles) return `\n!! ${roles.error}\n!! Edit the roles in the fleet file by hand before the next command: it would act on the fleet as it was.\n`;
  const r = roles.recorded;
  if (!r.diff) return `\nThe fleet file already names the roles as they are now.\n`;
  return `\nRoles follow the recovery: ${r.file} now says who does what${r.backupPath ? ` (previous version: ${r.backupPath})` : ''}\n${r.diff}\n`;
}

export function rolesToJson(roles: RolesOutcome | undefined): object | null {
  if (!roles) return null;
  if ('error' in roles) return { recorded: false, error: roles.error };
  return { recorded: true, file: roles.recorded.file, diff: roles.recorded.diff, backupPath: roles.recorded.backupPath ?? null };
}
