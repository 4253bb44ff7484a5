/**
 * The check that ends the database part of `prepare`: the replica applies the primary's
 * changes, is not far behind, and the primary really waits for it (semi-sync is on and
 * has a client), so an acknowledged commit exists on two machines.
 */
import { ActionError, type ActionContext } from '../actions/action.ts';
import { withAdmin } from '../actions/db-connection.ts';
import type { Machine } from '../fleet/schema.ts';
import type { CheckSpec } from '../recovery/step.ts';
import { readReplicaStatus } from '../actions/replica-status.ts';
import { globalStatus, isOn } from './mariadb-state.ts';
import { settle } from './settle.ts';

export interface ReplicationHealth {
  running: boolean;
  secondsBehind: number | null;
  semiSyncOn: boolean;
  semiSyncClients: number;
  detail: string;
}

export async function replicationHealth(ctx: ActionContext, primary: Machine, replicas: readonly Machine[]): Promise<ReplicationHealth> {
  const links = await Promise.all(replicas.map((r) => withAdmin(ctx, r.name, (db) => readReplicaStatus(db, r.name))));
  const status = await withAdmin(ctx, primary.name, (db) => globalStatus(db, ['rpl_semi_sync_master_status', 'rpl_semi_sync_master_clients']));
  const running = links.every((l) => l.ioThread === 'running' && l.sqlThread === 'running' && l.source?.host === primary.address);
  const lags = links.map((l) => l.secondsBehind);
  const secondsBehind = lags.includes(null) ? null : Math.max(0, ...(lags as number[]));
  const semiSyncOn = isOn(status.rpl_semi_sync_master_status);
  const semiSyncClients = Number(status.rpl_semi_sync_master_clients ?? 0);
  const parts = replicas.map((r, i) => {
    const l = links[i]!;
    const error = l.lastSqlError || l.lastIoError;
    return l.replicating ? `${r.name}: io ${l.ioThread}, sql ${l.sqlThread}, ${l.secondsBehind ?? '?'} s behind${error ? `, ${error}` : ''}` : `${r.name}: not a replica`;
  });
  parts.push(`semi-sync on ${primary.name}: ${semiSyncOn ? 'on' : 'OFF'}, ${semiSyncClients} client(s)`);
  return { running, secondsBehind, semiSyncOn, semiSyncClients, detail: parts.join('; ') };
}

export function replicationHealthy(primary: Machine, replicas: readonly Machine[], maxLagS: number, withinMs: number): CheckSpec {
  return {
    machines: [primary.name, ...replicas.map((r) => r.name)],
    describe: `replication ${primary.name} → ${replicas.map((r) => r.name).join(', ')} runs, lag ≤ ${maxLagS} s, semi-sync acknowledged by the replica`,
    async verify(ctx) {
      let last: ReplicationHealth | undefined;
      const ok = await settle(async () => {
        last = await replicationHealth(ctx, primary, replicas);
        return last.running && last.secondsBehind !== null && last.secondsBehind <= maxLagS && last.semiSyncOn && last.semiSyncClients >= replicas.length;
      }, withinMs);
      if (!ok) throw new ActionError('verify-failed', `replication is not healthy: ${last?.detail ?? 'no answer'}`);
      ctx.log(last!.detail);
    },
  };
}
