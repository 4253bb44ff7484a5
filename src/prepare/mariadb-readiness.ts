/**
 * Precondition of replication, checked before anything changes: every server answers,
 * writes a binlog (the replica too, for the day it is promoted), and has its own server_id
 * (none of these change without a restart, so prepare says what to fix instead); and the
 * machine the fleet calls the primary really is one — writable, replicating from nobody.
 */
import { ActionError } from '../actions/action.ts';
import { withAdmin } from '../actions/db-connection.ts';
import { requireMariadb } from '../actions/replica-status.ts';
import type { Machine } from '../fleet/schema.ts';
import type { CheckSpec } from '../recovery/step.ts';
import { globals, isOn, replicaLink } from './mariadb-state.ts';

export function mariadbReady(primary: Machine, replicas: readonly Machine[]): CheckSpec {
  const all = [primary, ...replicas];
  return {
    machines: all.map((m) => m.name),
    describe: `MariaDB on ${all.map((m) => m.name).join(', ')} answers, writes a binlog, and has a server_id of its own`,
    async verify(ctx) {
      requireMariadb(ctx);
      const seen = await Promise.all(all.map((m) => withAdmin(ctx, m.name, (db) => globals(db, ['log_bin', 'server_id', 'version', 'read_only']))));
      const primaryLink = await withAdmin(ctx, primary.name, (db) => replicaLink(db));
      const problems: string[] = [];
      const ids = new Map<string, string>();
      all.forEach((m, i) => {
        const v = seen[i]!;
        if (!isOn(v.log_bin)) problems.push(`${m.name} writes no binlog: add log-bin = mysql-bin to its my.cnf and restart MariaDB`);
        const other = ids.get(v.server_id ?? '');
        if (other) problems.push(`${m.name} and ${other} share server_id ${v.server_id}: give each its own in my.cnf and restart`);
        ids.set(v.server_id ?? '', m.name);
      });
      // After a failover the fleet file may still name the old primary: never replicate from it.
      if (isOn(seen[0]!.read_only)) problems.push(`${primary.name} is read-only: if it was demoted, make the fleet file name the current primary (db-primary) first`);
      if (primaryLink) problems.push(`${primary.name} replicates from ${primaryLink.masterHost}: the fleet file names it db-primary, but it is a replica`);
      if (problems.length) throw new ActionError('precondition', problems.join('; '));
    },
  };
}
