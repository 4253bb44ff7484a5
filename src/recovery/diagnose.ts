/**
 * From a health snapshot to "which runbook scenario is this": the question a person asks
 * first at 3 a.m. Pure logic over the fleet model and the snapshot, so it is tested
 * without machines. It only names a scenario; `lifeboat recover` shows its plan.
 */
import type { Fleet } from '../fleet/schema.ts';
import type { FleetStatus, MachineStatus } from '../health/fleet-status.ts';

export interface Diagnosis {
  scenario: string;
  failed: string;
  /** A spare to use, when the scenario needs one and the fleet has one. */
  replacement?: string;
  why: string;
}

/** A machine counts as down when it is unreachable or its database no longer answers. */
function down(m: MachineStatus): boolean {
  return !m.reachable || (m.mariadb !== undefined && !m.mariadb.ok && m.roles.includes('db-primary'));
}

export function diagnose(fleet: Fleet, status: FleetStatus): Diagnosis[] {
  const byName = new Map(status.machines.map((m) => [m.name, m]));
  const isDown = (name: string) => {
    const m = byName.get(name);
    return m ? down(m) : false;
  };
  const withRole = (role: string) => fleet.machines.filter((m) => (m.roles as string[]).includes(role)).map((m) => m.name);
  const spare = withRole('spare').find((s) => byName.get(s)?.reachable);
  const spareInput = spare ? { replacement: spare } : {};
  const out: Diagnosis[] = [];

  const primary = withRole('db-primary')[0];
  const backups = withRole('app').filter((m) => m !== primary);
  const backupDown = backups.filter(isDown);
  const stores = fleet.backups?.stores ?? [];
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
