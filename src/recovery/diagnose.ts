/**
 * From a health snapshot and the failure verdicts to "which runbook scenario is this": the
 * question a person asks first at 3 a.m. Pure logic over the fleet model, the snapshot and
 * the verdicts, so it is tested without machines. It only names a scenario; `lifeboat
 * recover` shows its plan. A machine the operator cannot reach counts as down only when its
 * verdict is `dead`: the operator's view alone never decides.
 */
import { storesInService } from '../fleet/model.ts';
import type { Fleet } from '../fleet/schema.ts';
import type { FleetStatus, MachineStatus } from '../health/fleet-status.ts';
import type { VerdictKind } from '../health/verdict.ts';

export interface Diagnosis {
  scenario: string;
  failed: string;
  /** A spare to use, when the scenario needs one and the fleet has one. */
  replacement?: string;
  why: string;
}

function primaryDatabaseDown(m: MachineStatus): boolean {
  return m.mariadb !== undefined && !(m.mariadb.answers ?? m.mariadb.ok) && m.roles.includes('db-primary');
}

/**
 * A machine counts as down when its verdict is `dead`, or when it is reachable (`alive`)
 * and it is the primary whose database no longer answers (it can then be fenced for real).
 */
export function diagnose(fleet: Fleet, status: FleetStatus, verdicts: ReadonlyMap<string, VerdictKind>): Diagnosis[] {
  const byName = new Map(status.machines.map((m) => [m.name, m]));
  const isDown = (name: string) => {
    const m = byName.get(name);
    if (!m) return false;
    const verdict = verdicts.get(name);
    if (verdict === 'dead') return true;
    return m.reachable && verdict !== 'unreachable-from-some' && verdict !== 'unknown' && primaryDatabaseDown(m);
  };
  const withRole = (role: string) => fleet.machines.filter((m) => (m.roles as string[]).includes(role)).map((m) => m.name);
  const spare = withRole('spare').find((s) => byName.get(s)?.reachable);
  const spareInput = spare ? { replacement: spare } : {};
  const out: Diagnosis[] = [];

  const primary = withRole('db-primary')[0];
  const backups = withRole('app').filter((m) => m !== primary);
  const backupDown = backups.filter(isDown);
  const stores = storesInService(fleet);
  const onsiteStores = stores.filter((s) => !fleet.machines.find((m) => m.name === s)?.offsite && s !== primary && !backups.includes(s));

  if (primary && isDown(primary)) {
    if (backups.length > 0 && backupDown.length === backups.length) {
      const lostStores = onsiteStores.length > 0 && onsiteStores.every(isDown);
      out.push({
        scenario: lostStores ? 'total-loss' : 'both-app-down',
        failed: primary,
        ...spareInput,
        why: lostStores
          ? `${primary}, ${backupDown.join(', ')} and ${onsiteStores.join(', ')} are down: only the off-site copy is left`
          : `${primary} and ${backupDown.join(', ')} are both down`,
      });
    } else {
      out.push({ scenario: 'primary-down', failed: primary, why: `${primary} (db-primary) is down; ${backups.join(', ') || 'no backup'} answers` });
    }
  } else {
    for (const b of backupDown) out.push({ scenario: 'backup-down', failed: b, ...spareInput, why: `${b} (backup app server) is down` });
  }
  for (const edge of withRole('edge').filter(isDown)) {
    out.push({ scenario: 'edge-down', failed: edge, why: `${edge} (nginx edge) is down` });
  }
  return out;
}
