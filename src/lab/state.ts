/**
 * What a lab remembers between commands (`lab up` in one process, `lab fault` in another):
 * its plan, each host's anchor process and the faults in force. Written atomically.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { PidRef } from './anchor.ts';
import { LabError } from './errors.ts';
import type { ActiveFault } from './fault-kinds.ts';
import { labPaths } from './paths.ts';
import type { LabPlan } from './plan.ts';

export interface LabState {
  version: 1;
  id: string;
  /** The fleet file the lab was built from (absolute). */
  fleetSource: string;
  repoDir: string;
  plan: LabPlan;
  anchors: Record<string, PidRef>;
  faults: ActiveFault[];
  upAt: string;
}

export async function readState(id: string): Promise<LabState> {
  const file = labPaths(id).stateFile;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new LabError('not-found', `no lab "${id}" on this machine (no ${file}); start it with \`lifeboat lab up --id ${id}\``, { cause });
  }
  return JSON.parse(text) as LabState;
}

export async function writeState(state: LabState): Promise<void> {
  const file = labPaths(state.id).stateFile;
  const temp = `${file}.tmp-${process.pid}`;
  await writeFile(temp, JSON.stringify(state, null, 2) + '\n');
  await rename(temp, file);
}
