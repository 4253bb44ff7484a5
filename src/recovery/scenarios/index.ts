/** The one registry of recovery scenarios, in the seed runbook's order. */
import type { Scenario } from '../step.ts';
import { backupDown } from './backup-down.ts';
import { edgeDown } from './edge-down.ts';
import { primaryDown } from './primary-down.ts';
import { bothAppDown, totalLoss } from './rebuild-primary.ts';
import { rejoin } from './rejoin.ts';

export const SCENARIOS: readonly Scenario[] = [edgeDown, backupDown, primaryDown, bothAppDown, totalLoss, rejoin as Scenario];

export function scenarioNamed(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
