/**
 * `status`'s line for stable endpoints (fleet `endpoints`): where a machine's HAProxy forwards
 * MariaDB and Redis now, whether that is the fleet's live primary, and whether its services
 * use the endpoints (or would be rewritten and restarted by a recovery). Reads only.
 */
import type { ActionContext } from '../actions/action.ts';
import { ENDPOINT_PROXIES, endpointsInUse, liveAt, readLive, type HostPort } from '../actions/endpoints.ts';
import { endpointHolders, machinesWithRole } from '../fleet/model.ts';
import type { Fleet, Machine } from '../fleet/schema.ts';
import type { SecretResolver } from '../fleet/secrets.ts';
import type { Remote } from '../remote/remote.ts';

export interface EndpointsCheck {
  /** The endpoints answer, forward to the live primaries, and the services use them. */
  ok: boolean;
  /** proxy (mariadb, redis) → host:port, as HAProxy reports it; empty when it does not answer. */
  forwards: Record<string, string>;
  inUse: boolean;
  detail: string;
}

/** `host:port`, and ` tls` when HAProxy forwards inside TLS. */
const hostPort = (at: HostPort) => `${at.host}:${at.port}${at.tls ? ' tls' : ''}`;

export async function endpointsCheck(fleet: Fleet, m: Machine, options: { remote(machine: string): Remote; secret: SecretResolver }): Promise<EndpointsCheck | undefined> {
  if (!endpointHolders(fleet).some((h) => h.name === m.name)) return undefined;
  const ctx: ActionContext = { fleet, remote: options.remote, secret: options.secret, log: () => undefined };
  const primary = machinesWithRole(fleet, 'db-primary')[0];
  const want = primary ? liveAt(fleet, primary, machinesWithRole(fleet, 'redis')[0]) : undefined;
  let forwards: Record<string, string> = {};
  try {
    forwards = Object.fromEntries([...(await readLive(ctx, m.name))].map(([proxy, at]) => [proxy, hostPort(at)]));
  } catch (error) {
    return { ok: false, forwards, inUse: false, detail: (error as Error).message };
  }
  const wrong = want
    ? (['database', 'redis'] as const).filter((k) => want[k] && forwards[ENDPOINT_PROXIES[k]] !== hostPort(want[k]!))
    : [];
  const use = await endpointsInUse(ctx, m.name);
  const where = Object.entries(forwards).map(([p, at]) => `${p} → ${at}`).join(', ');
  if (wrong.length) return { ok: false, forwards, inUse: use.inUse, detail: `${where}: not the live primary's (${wrong.map((k) => `${ENDPOINT_PROXIES[k]} should be ${hostPort(want![k]!)}`).join(', ')})` };
  return { ok: use.inUse, forwards, inUse: use.inUse, detail: use.inUse ? `${where}; the services use them` : `${where}; ${use.why} (a recovery would rewrite and restart instead)` };
}
