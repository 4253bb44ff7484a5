/**
 * What a command needs to act on a fleet: the validated fleet, one SSH connection per
 * machine for the whole command, the secret resolver and a log. Built once at the edge,
 * passed down as an ActionContext; nothing deeper reads the environment.
 */
import type { ActionContext } from '../actions/action.ts';
import { loadFleet } from '../fleet/load.ts';
import type { Fleet } from '../fleet/schema.ts';
import { secretBaseDir, secretResolver } from '../fleet/secrets.ts';
import { RemotePool } from '../remote/pool.ts';

export interface Session {
  fleetFile: string;
  fleet: Fleet;
  ctx: ActionContext;
  close(): Promise<void>;
}

export async function openSession(
  fleetFile: string,
  options: { acceptNewHostKeys?: boolean; log?: (line: string) => void; env?: NodeJS.ProcessEnv } = {},
): Promise<Session> {
  const fleet = await loadFleet(fleetFile);
  const baseDir = secretBaseDir(fleetFile);
  const secret = secretResolver(options.env ?? process.env, baseDir);
  const pool = RemotePool.forFleet(fleet, { secret, baseDir, acceptNewHostKeys: options.acceptNewHostKeys ?? false });
  const log = options.log ?? ((line: string) => process.stderr.write(`  ${line}\n`));
  return {
    fleetFile,
    fleet,
    ctx: { fleet, remote: (m) => pool.get(m), remoteVia: (m, via) => pool.via(m, via), secret, log },
    close: () => pool.closeAll(),
  };
}
