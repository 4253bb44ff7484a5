/**
 * Which services on the machines that survive a drill's fault were restarted by its recovery:
 * every fleet service's process id on those machines before the fault and after the
 * recovery, as the lab's supervisor reports it (the derived fleet drives every service
 * through supervisor). With stable endpoints, primary-down restarts none of them.
 */
import { servicesOn } from '../../fleet/model.ts';
import type { Fleet } from '../../fleet/schema.ts';
import type { FaultSpec } from '../fault-kinds.ts';

/** `supervisorctl status` → program → pid, for the programs that run (pure). */
export function runningPrograms(status: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of status.split('\n')) {
    const m = /^(\S+)\s+RUNNING\s+pid (\d+),/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

/** Each surviving machine with the supervisor programs of the services its roles run. */
export function survivorPrograms(fleet: Fleet, faults: readonly FaultSpec[]): Array<{ machine: string; programs: Map<string, string> }> {
  const hit = new Set(faults.flatMap((f) => ('host' in f ? [f.host] : 'hosts' in f ? f.hosts : [])));
  return fleet.machines.filter((m) => !hit.has(m.name) && !m.down).flatMap((m) => {
    const programs = new Map(servicesOn(fleet, m).map(([name, s]) => [s.driver.type === 'supervisor' ? (s.driver.program ?? name) : name, name] as const));
    return programs.size ? [{ machine: m.name, programs }] : [];
  });
}

export type ServicePids = Map<string, number>;

/** `machine/service` → pid, of the survivors' services that run now. */
export async function servicePids(exec: (host: string, command: string) => Promise<{ stdout: string }>, survivors: ReturnType<typeof survivorPrograms>): Promise<ServicePids> {
  const out: ServicePids = new Map();
  await Promise.all(survivors.map(async ({ machine, programs }) => {
    // `status` exits non-zero while any program is not running, so its exit code says little;
    // an answer naming no program at all is a supervisor that could not be read, and an
    // unread machine must not count as "nothing restarted".
    const { stdout } = await exec(machine, 'supervisorctl status || true');
    if (!/^\S+\s+[A-Z]+\b/m.test(stdout)) throw new Error(`cannot read supervisor on ${machine}: ${stdout.trim().slice(0, 200) || 'no answer'}`);
    const running = runningPrograms(stdout);
    for (const [program, service] of programs) {
      const pid = running.get(program);
      if (pid !== undefined) out.set(`${machine}/${service}`, pid);
    }
  }));
  return out;
}

/** Services that ran before and run under another process now, or not at all. */
export function restartedBetween(before: ServicePids, after: ServicePids): string[] {
  return [...before].filter(([key, pid]) => after.get(key) !== pid).map(([key]) => key).sort();
}
