/**
 * What the users' side is asked to check, from the fleet: every machine that serves a domain,
 * at the configured ports (default: its SSH port, 80 and 443), and every domain.
 */
import { sshSettingsFor } from '../../fleet/model.ts';
import type { Fleet, UsersSideSettings } from '../../fleet/schema.ts';
import type { ProbeTargets } from './protocol.ts';

export function usersSideTargets(fleet: Fleet, settings: Pick<UsersSideSettings, 'intervalS' | 'timeoutMs' | 'ports'>): ProbeTargets {
  const serving = fleet.machines.filter((m) => m.domains.length > 0 && !m.down);
  return {
    fleet: fleet.name,
    intervalS: settings.intervalS,
    timeoutMs: settings.timeoutMs,
    ports: serving.flatMap((m) => {
      const ports = settings.ports ?? [sshSettingsFor(fleet, m).port, 80, 443];
      return [...new Set(ports)].map((port) => ({ machine: m.name, address: m.address, port }));
    }),
    domains: serving.flatMap((m) => m.domains),
  };
}
