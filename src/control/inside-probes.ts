/**
 * The daemon's own view of what the users' side checks, on the probe scheduler: a TCP connect
 * to every address and port the users reach, and every domain resolved from the daemon's host
 * (the authoritative answer a users' answer is compared with; the fleet file's addresses when
 * the daemon's resolver cannot answer). The newest result of each is kept.
 */
import type { Fleet } from '../fleet/schema.ts';
import type { InsideView, PortSeen, PortView } from '../health/reachability.ts';
import type { CertReading } from '../health/conditions.ts';
import { certCheck, resolveCheck, tcpCheck } from './probes/checks.ts';
import { ProbeScheduler } from './probes/scheduler.ts';
import type { ProbeTargets } from './users-side/protocol.ts';

type Answer = { port: PortSeen } | { addresses: string[] } | { cert: { daysLeft: number } | 'none' };

export class InsideProbes {
  private readonly scheduler: ProbeScheduler<Answer>;
  private readonly ports = new Map<string, PortView>();
  private readonly names = new Map<string, string[]>();
  private readonly certs = new Map<string, CertReading>();

  /** `certIntervalMs`: how often each domain's certificate is read on port 443 of its machine. */
  constructor(private readonly fleet: Fleet, targets: ProbeTargets, certIntervalMs = 60_000) {
    this.scheduler = new ProbeScheduler<Answer>({
      jitter: 0.1,
      perGroup: 4,
      onResult: (r) => {
        const [kind, key] = [r.id.slice(0, r.id.indexOf(' ')), r.id.slice(r.id.indexOf(' ') + 1)];
        if (kind === 'tls') {
          const [domain, address] = key.split(' ') as [string, string];
          if (r.outcome.state === 'ok' && 'cert' in r.outcome.value) {
            const cert = r.outcome.value.cert;
            if (cert === 'none') this.certs.delete(domain);
            else this.certs.set(domain, { domain, address, daysLeft: cert.daysLeft });
          } else {
            const why = r.outcome.state === 'timeout' ? 'no TLS answer within the time-out' : r.outcome.state === 'error' ? r.outcome.error : 'unexpected answer';
            this.certs.set(domain, { domain, address, error: why });
          }
        } else if (kind === 'tcp') {
          const port = this.ports.get(key);
          if (!port) return;
          port.seen = r.outcome.state === 'ok' && 'port' in r.outcome.value ? r.outcome.value.port : r.outcome.state === 'timeout' ? 'silent' : 'error';
        } else if (r.outcome.state === 'ok' && 'addresses' in r.outcome.value) {
          this.names.set(key, r.outcome.value.addresses);
        } else {
          this.names.delete(key);
        }
      },
    });
    const every = { intervalMs: targets.intervalS * 1000, timeoutMs: targets.timeoutMs };
    for (const t of targets.ports) {
      const key = `${t.address}:${t.port}`;
      this.ports.set(key, { ...t, seen: 'error' });
      this.scheduler.add({ id: `tcp ${key}`, group: t.address, ...every, check: async (signal) => ({ port: await tcpCheck(t.address, t.port, signal) }) });
    }
    for (const domain of targets.domains) {
      this.scheduler.add({ id: `dns ${domain}`, group: 'resolver', ...every, check: async (signal) => ({ addresses: await resolveCheck(domain, signal) }) });
    }
    // The certificate each machine serves for its domains; a machine that serves no TLS
    // (443 refused) has none to expire.
    for (const m of fleet.machines.filter((x) => !x.down)) {
      for (const domain of m.domains) {
        this.scheduler.add({
          id: `tls ${domain} ${m.address}`, group: m.address, intervalMs: certIntervalMs, timeoutMs: targets.timeoutMs,
          check: async (signal) => {
            try {
              return { cert: await certCheck(m.address, 443, domain, signal) };
            } catch (error) {
              if ((error as NodeJS.ErrnoException).code === 'ECONNREFUSED') return { cert: 'none' as const };
              throw error;
            }
          },
        });
      }
    }
  }

  start(): void {
    this.scheduler.start();
  }

  stop(): void {
    this.scheduler.stop();
  }

  /** The certificates read so far. */
  certReadings(): CertReading[] {
    return [...this.certs.values()];
  }

  view(alive: ReadonlySet<string>): InsideView {
    const names = new Map<string, readonly string[]>();
    for (const m of this.fleet.machines) for (const d of m.domains) names.set(d, this.names.get(d) ?? [m.address]);
    return { alive, ports: [...this.ports.values()].map((p) => ({ ...p })), names };
  }
}
