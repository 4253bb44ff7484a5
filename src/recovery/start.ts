/**
 * Starting (or resuming) one recovery run, the same way for a person at the CLI and for the
 * watch daemon: one recovery of a fleet at a time, in this journal (a run that changed
 * things and did not finish blocks a new one) and across lifeboats (the markers the guard
 * places on every machine the run changes before its first mutating step).
 */
import type { ActionContext } from '../actions/action.ts';
import { runRecovery, type ConfirmFn, type ProgressEvent, type RunGuard } from './engine.ts';
import { DecisionError } from './errors.ts';
import type { Journal } from './journal.ts';
import type { RunMode, RunRecord } from './journal-read.ts';
import type { RoleChange } from '../fleet/role-changes.ts';
import { recordRoles, type RolesRecorded } from './record-roles.ts';
import { RunMarkers } from './run-lock.ts';
import type { Scenario, ScenarioInput } from './step.ts';

export interface StartRecovery {
  scenario: Scenario;
  input: ScenarioInput;
  ctx: ActionContext;
  journal: Journal;
  mode: RunMode;
  confirm?: ConfirmFn;
  resumeRunId?: string;
  amend?: Partial<ScenarioInput>;
  /** Started by the daemon's policy: counts for its cool-down. */
  automatic?: boolean;
  /** The fleet file: a recovered run writes the roles it changed into it (record-roles.ts). */
  fleetFile?: string;
  onProgress?: (event: ProgressEvent) => void;
}

/** Whether the roles a recovered run changed are in the fleet file now. */
export type RolesOutcome = { recorded: RolesRecorded } | { error: string };

export type StartedRun = RunRecord & { roles?: RolesOutcome };

export async function startRecovery(o: StartRecovery): Promise<StartedRun> {
  const fleetName = o.ctx.fleet?.name ?? '';
  if (o.mode !== 'plan' && o.resumeRunId === undefined) {
    const busy = o.journal.inProgress(fleetName);
    if (busy.length > 0) {
      const r = busy[0]!;
      throw new DecisionError(
        'run-in-progress',
        `run ${r.id} (${r.scenario}, ${r.outcome}) of fleet ${fleetName} changed things and has not finished; nothing was started. ` +
          `Resume it with \`lifeboat recover --resume ${r.id}\`, or declare it dead with \`lifeboat runs abandon ${r.id} --by NAME\`.`,
      );
    }
  }
  let markers: RunMarkers | undefined;
  const guard: RunGuard = {
    acquire: async (runId, machines) => {
      markers = new RunMarkers(o.ctx, RunMarkers.ownerFor(runId, o.scenario.name, fleetName));
      await markers.acquire(machines);
    },
    release: async () => markers?.release(),
  };
  const run = await runRecovery({
    scenario: o.scenario,
    input: o.input,
    ctx: o.ctx,
    mode: o.mode,
    journal: o.journal,
    guard,
    ...(o.automatic ? { automatic: true } : {}),
    ...(o.amend ? { amend: o.amend } : {}),
    ...(o.confirm ? { confirm: o.confirm } : {}),
    ...(o.resumeRunId !== undefined ? { resumeRunId: o.resumeRunId } : {}),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
  });
  if (run.outcome !== 'recovered' || run.mode === 'plan' || !o.fleetFile || !o.scenario.rolesAfter) return run;
  return { ...run, roles: await recordRolesOf(o, run) };
}

/**
 * The roles the run changed, written into the fleet file and noted in the journal. A failure
 * here does not undo a recovery that worked, but it is said as loudly as a failed step: the
 * next command would otherwise act on the fleet as it was.
 */
async function recordRolesOf(o: StartRecovery, run: RunRecord): Promise<RolesOutcome> {
  try {
    const changes = o.scenario.rolesAfter!(run.input as ScenarioInput, o.ctx.fleet);
    const recorded = await recordRoles(o.fleetFile!, changes, { run: run.id, since: new Date().toISOString() });
    o.journal.event(run.id, null, 'roles-recorded', recorded.diff ? `${o.fleetFile}: ${changes.map(describeChange).join('; ')}` : 'the fleet file already said so');
    return { recorded };
  } catch (error) {
    const message = `the fleet file was NOT updated with the roles this recovery changed: ${(error as Error).message}`;
    o.journal.event(run.id, null, 'roles-not-recorded', message);
    return { error: message };
  }
}

function describeChange(c: RoleChange): string {
  if ('storeInPlaceOf' in c) return `${c.machine} a backup store in ${c.storeInPlaceOf}'s place`;
  return 'down' in c ? `${c.machine} out of service` : `${c.machine} now ${c.roles.join(', ')}`;
}
