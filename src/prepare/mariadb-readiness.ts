/**
 * Precondition of replication, checked before anything changes: every server answers,
 * writes a binlog (the replica too, for the day it is promoted), and has its own server_id.
 * None of these can be changed without a restart, so prepare says what to fix instead.
 */
import { ActionError } from '../actions/action.ts';
import { withAdmin } from '../actions/db-connection.ts';
import { requireMariadb } from '../actions/replica-status.ts';
import type { Machine } from '../fleet/schema.ts';
import type { CheckSpec } from '../recovery/step.ts';
import { globals, isOn } from './mariadb-state.ts';

export function mariadbReady(primary: Machine, replicas: readonly Machine[]): CheckSpec {
  const all = [primary, ...replicas];
  return {
    machines: all.map((m) => m.name),
    describe: `MariaDB on ${all.map((m) => m.name).join(', ')} answers, writes a binlog, and has a server_id of its own`,
    async verify(ctx) {
      requireMariadb(ctx);
      const seen = await Promise.all(all.map((m) => withAdmin(ctx, m.name, (db) => globals(db, ['log_bin', 'server_id', 'version']))));
      const problems: string[] = [];
      const ids = new Map<string, string>();
      all.forEach((m, i) => {
        const v = seen[i]!;
        if (!isOn(v.log_bin)) problems.push(`${m.name} writes no binlog: add log-bin = mysql-bin to its my.cnf and restart MariaDB`);
        const other = ids.get(v.server_id ?? '');
        if (other) problems.push(`${m.name} and ${other} share server_id ${v.server_id}: give each its own in my.cnf and restart`);
        ids.set(v.server_id ?? '', m.name);
      });
      if (problems.length) throw new ActionError('precondition', problems.join('; '));
    },
  };
}
