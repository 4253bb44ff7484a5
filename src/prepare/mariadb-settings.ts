/**
 * Semi-synchronous replication and read-only, set the two ways they must be: in a my.cnf
 * drop-in (so a restart keeps them) and with SET GLOBAL (so no restart is needed). The
 * primary waits for the replica's acknowledgement after the binlog is synced (AFTER_SYNC,
 * the lossless wait point: a commit is visible to nobody before it exists on two
 * machines); the replica acknowledges and refuses writes from everyone but replication
 * and the admin account.
 */
import type { Action, ActionContext, Change } from '../actions/action.ts';
import { ActionError } from '../actions/action.ts';
import { withAdmin } from '../actions/db-connection.ts';
import type { Machine } from '../fleet/schema.ts';
import { fileChange, fileDelta, verifyDesired, writeDesired, type DesiredFile } from '../actions/desired-file.ts';
import { globals, globalStatus, isOn, replicaLink } from './mariadb-state.ts';
import type { PrepareOptions } from './prepare-options.ts';
import { runStatements, sql, sqlChanges, type Statement } from './sql-statements.ts';

export type DbRole = 'primary' | 'replica';

interface Setting {
  name: string;
  value: string | number;
  /** Compares the server's printed value with the wanted one. */
  same(current: string | undefined): boolean;
}

const on = (name: string): Setting => ({ name, value: 'ON', same: (c) => isOn(c) });
const off = (name: string): Setting => ({ name, value: 'OFF', same: (c) => c !== undefined && !isOn(c) });

export function settingsFor(role: DbRole, options: PrepareOptions): Setting[] {
  if (role === 'primary') {
    return [
      { name: 'rpl_semi_sync_master_wait_point', value: 'AFTER_SYNC', same: (c) => c === 'AFTER_SYNC' },
      { name: 'rpl_semi_sync_master_timeout', value: options.semiSyncTimeoutMs, same: (c) => Number(c) === options.semiSyncTimeoutMs },
      on('rpl_semi_sync_master_enabled'),
      off('rpl_semi_sync_slave_enabled'),
      // read_only is never switched off here: a read-only "primary" is refused by the
      // readiness check instead, as it may be a demoted one the fleet file still names.
    ];
  }
  return [on('rpl_semi_sync_slave_enabled'), off('rpl_semi_sync_master_enabled'), on('read_only')];
}

export function dropInText(machine: Machine, role: DbRole, options: PrepareOptions): string {
  const lines = settingsFor(role, options).map((s) => `${s.name} = ${s.value}`);
  return [
    `# Written by \`lifeboat prepare\`: ${machine.name} is the MariaDB ${role}.`,
    '# Promotion rewrites this file; change the fleet file, not this file.',
    '[mariadbd]',
    ...lines,
    '',
  ].join('\n');
}

/** Puts one machine's semi-sync and read-only settings in place, on disk and live. */
export function mariadbSettings(machine: Machine, role: DbRole, options: PrepareOptions): Action {
  const path = typeof options.mariadbDropIn === 'string' ? options.mariadbDropIn : options.mariadbDropIn(machine.name);
  const file: DesiredFile = { machine: machine.name, path, content: dropInText(machine, role, options), mode: 0o644 };
  const names = settingsFor(role, options).map((s) => s.name);

  async function statements(ctx: ActionContext): Promise<Statement[]> {
    return withAdmin(ctx, machine.name, async (db) => {
      const current = await globals(db, names);
      const out = settingsFor(role, options)
        .filter((s) => !s.same(current[s.name]))
        .map((s) => sql(`SET GLOBAL ${s.name} = ?`, [s.value]));
      if (role === 'replica') {
        // A running IO thread negotiated semi-sync when it connected: it must reconnect.
        const link = await replicaLink(db);
        const status = await globalStatus(db, ['rpl_semi_sync_slave_status']);
        if (link && link.ioRunning === 'Yes' && (out.length > 0 || !isOn(status.rpl_semi_sync_slave_status))) {
          out.push(sql('STOP SLAVE IO_THREAD'), sql('START SLAVE IO_THREAD'));
        }
      }
      return out;
    });
  }

  return {
    title: role === 'primary'
      ? `Turn on semi-synchronous replication on the primary ${machine.name} (wait ${options.semiSyncTimeoutMs} ms for the replica)`
      : `Make ${machine.name} a semi-synchronous, read-only replica`,
    machines: [machine.name],
    mutating: true,
    async plan(ctx) {
      const { before, after } = await fileDelta(ctx, file);
      const changes: Change[] = fileChange(file, before, after);
      changes.push(...sqlChanges(machine.name, await statements(ctx)));
      return changes;
    },
    async apply(ctx) {
      await writeDesired(ctx, file);
      const todo = await statements(ctx);
      if (todo.length) await withAdmin(ctx, machine.name, (db) => runStatements(db, todo));
    },
    async verify(ctx) {
      await verifyDesired(ctx, file);
      await withAdmin(ctx, machine.name, async (db) => {
        const current = await globals(db, names);
        const wrong = settingsFor(role, options).filter((s) => !s.same(current[s.name]));
        if (wrong.length) {
          throw new ActionError('verify-failed', `${machine.name}: ${wrong.map((s) => `${s.name} is ${current[s.name] ?? 'unknown'}, not ${s.value}`).join('; ')}`);
        }
      });
    },
  };
}
