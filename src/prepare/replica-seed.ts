/**
 * Makes a machine a GTID replica of the primary: when it does not replicate from it yet,
 * seed it with a consistent copy taken from the running primary and point it there. A
 * server with no data at all (a spare) gets a physical copy streamed machine to machine
 * (`replica-seed-physical.ts`); one holding data of its own, the logical copy below, which
 * replaces only the fleet's schema.
 *
 * The copy is `mariadb-dump --single-transaction --gtid --master-data=2`, run on the replica
 * and streamed straight into its server: one consistent snapshot (no global lock needed on
 * MariaDB, which takes the binlog position from the snapshot), the primary keeps serving.
 * The GTID of that snapshot, printed as a comment by the dump, becomes gtid_slave_pos.
 * The load runs with sql_log_bin=0 after RESET MASTER on the replica, so the replica has no
 * GTID of its own that strict mode would later find out of order (LAB-NOTES, GTID trap).
 */
import { ActionError, type Action, type ActionContext, type Change } from '../actions/action.ts';
import { fleetDatabase, withAdmin } from '../actions/db-connection.ts';
import type { Machine } from '../fleet/schema.ts';
import { RemoteCommandError, shq } from '../remote/remote.ts';
import { replicationCredentials } from './replication-account.ts';
import { CHANGE_MASTER_SECRET_PARAM, changeMasterSql } from '../actions/change-master.ts';
import { machineTlsFiles, tlsRequired } from '../remote/tls.ts';
import { globals, holdsData, replicaLink, schemaHasRows, type ReplicaLink } from './mariadb-state.ts';
import type { PrepareOptions } from './prepare-options.ts';
import { settle } from './settle.ts';
import { canSeedPhysically, physicalSeedCommands, seedPhysically } from './replica-seed-physical.ts';
import { StreamUnreachableError } from '../remote/stream.ts';
import { runStatements, sql, sqlChanges, type Statement } from './sql-statements.ts';

export interface SeedOptions {
  /** Replace the replica's data even when it holds rows and does not replicate from the primary. */
  reseed?: boolean;
}

/** `clear`: it replicates from the primary, but not inside verified TLS the primary now serves. */
type LinkState = 'replicating' | 'stopped' | 'broken' | 'clear' | 'none';

const GTID_MARK = '@@lifeboat-gtid ';
/** A GTID list: `0-1-42,1-1-7`, or empty when the primary has written nothing yet. */
const GTID_LIST = /^(\d+-\d+-\d+(,\d+-\d+-\d+)*)?$/;

function linkState(link: ReplicaLink | undefined, primary: Machine, port: number, user: string, tls: boolean): LinkState {
  if (!link || link.masterHost !== primary.address || link.masterPort !== port || link.masterUser !== user || link.usingGtid !== 'Slave_Pos') return 'none';
  if (tls && !link.tlsVerified) return 'clear';
  if (link.lastError) return 'broken';
  return link.sqlRunning === 'Yes' && link.ioRunning !== 'No' ? 'replicating' : 'stopped';
}

/**
 * Client options that make mariadb-dump and mariadb reach the primary inside TLS, checking
 * its certificate against the CA and its address against the certificate's names.
 */
export function clientTlsFlags(caFile: string | undefined): string {
  return caFile ? ` --ssl --ssl-ca=${shq(caFile)} --ssl-verify-server-cert` : '';
}

/** The shell pipeline run on the replica; credentials arrive on its standard input only. */
export function seedCommand(primary: Machine, replica: Machine, port: number, schema: string, caFile?: string): string {
  const tls = clientTlsFlags(caFile);
  const script = [
    'set -euo pipefail',
    'cnf=$(mktemp); trap \'rm -f "$cnf"\' EXIT',
    'cat > "$cnf"',
    `{ echo 'SET SESSION sql_log_bin = 0;'; mariadb-dump --defaults-extra-file="$cnf"${tls} --host=${shq(primary.address)} --port=${port}` +
      ` --single-transaction --gtid --master-data=2 --routines --triggers --events --add-drop-database --databases ${shq(schema)}; }` +
      ` | awk '!seen && /gtid_slave_pos *= *\\x27/ { print "${GTID_MARK}" $0 > "/dev/stderr"; seen = 1 } { print }'` +
      ` | mariadb --defaults-extra-file="$cnf"${tls} --host=${shq(replica.address)} --port=${port}`,
  ].join('\n');
  return `bash -c ${shq(script)}`;
}

export function gtidFromSeedOutput(stderr: string): string {
  const line = stderr.split('\n').find((l) => l.startsWith(GTID_MARK));
  const value = line ? /gtid_slave_pos *= *'([^']*)'/.exec(line)?.[1] : undefined;
  if (value === undefined || !GTID_LIST.test(value)) {
    throw new ActionError('apply-failed', `the dump did not name the GTID position of its snapshot (stderr: ${stderr.trim().slice(-300)})`);
  }
  return value;
}

/** True when the server's binlog holds a transaction it wrote itself (its own server_id). */
export async function hasOwnWrites(conn: Parameters<typeof replicaLink>[0]): Promise<boolean> {
  const v = await globals(conn, ['gtid_binlog_pos', 'server_id']);
  return (v.gtid_binlog_pos ?? '').split(',').some((gtid) => gtid.split('-')[1] === v.server_id);
}

export function replicaOf(primary: Machine, replica: Machine, options: PrepareOptions, seed: SeedOptions = {}): Action {
  // Both ends hold certificates of the fleet's CA: the link and the seed go inside TLS.
  const tlsCa = (ctx: ActionContext) => (tlsRequired(ctx.fleet, primary.name) && tlsRequired(ctx.fleet, replica.name) ? machineTlsFiles(ctx.fleet).ca : undefined);
  async function inspect(ctx: ActionContext) {
    const db = fleetDatabase(ctx);
    const { user } = await replicationCredentials(ctx);
    return withAdmin(ctx, replica.name, async (conn) => {
      const link = await replicaLink(conn);
      const state = linkState(link, primary, db.port, user, tlsCa(ctx) !== undefined);
      // Data the replica got from provisioning (loaded without binlog) or from the primary is
      // safe to replace; data written on the replica itself (a GTID with its own server_id) is not.
      const own = state === 'replicating' || state === 'stopped' ? false : await hasOwnWrites(conn);
      const hasRows = own ? await schemaHasRows(conn, db.schema) : false;
      // A server with no data at all (a spare being built) takes the faster physical seed.
      const empty = state === 'none' || state === 'broken' ? !(await holdsData(conn)) : false;
      return { state, link, hasRows, empty };
    });
  }

  /** CHANGE MASTER to the primary (inside TLS when both ends hold certificates). */
  async function changeMaster(ctx: ActionContext): Promise<Statement> {
    const { user, password } = await replicationCredentials(ctx);
    const change = changeMasterSql(ctx.fleet, primary, replica, user, password);
    return sql(change.sql, change.params, [CHANGE_MASTER_SECRET_PARAM]);
  }

  async function pointAt(ctx: ActionContext, gtid: string | undefined): Promise<Statement[]> {
    return [
      sql('SET GLOBAL gtid_slave_pos = ?', [gtid ?? '<GTID of the dump\'s snapshot>']),
      await changeMaster(ctx),
      sql('START SLAVE'),
    ];
  }

  /** A running link moved into TLS where it is: its position (GTID) is kept. */
  async function relink(ctx: ActionContext): Promise<Statement[]> {
    return [sql('STOP SLAVE'), await changeMaster(ctx), sql('START SLAVE')];
  }

  const resetFirst: Statement[] = [sql('STOP SLAVE'), sql('RESET SLAVE ALL'), sql('RESET MASTER')];

  function refuseOverwrite(ctx: ActionContext, state: LinkState): never {
    throw new ActionError('precondition',
      state === 'broken'
        ? `${replica.name}: replication from ${primary.name} is broken; \`lifeboat prepare --reseed\` replaces ${replica.name}'s copy with a fresh one`
        : `${replica.name}: schema ${fleetDatabase(ctx).schema} holds data written on ${replica.name} itself and does not replicate from ${primary.name}; \`lifeboat prepare --reseed\` replaces it with a copy of ${primary.name}`);
  }

  return {
    title: `Seed ${replica.name} from ${primary.name} and replicate with GTID`,
    machines: [replica.name, primary.name],
    mutating: true,
    async plan(ctx) {
      const { state, hasRows, empty } = await inspect(ctx);
      if (state === 'replicating') return [];
      if (state === 'stopped') return sqlChanges(replica.name, [sql('START SLAVE')]);
      if (state === 'clear') return sqlChanges(replica.name, await relink(ctx));
      if ((state === 'broken' || hasRows) && !seed.reseed) refuseOverwrite(ctx, state);
      const db = fleetDatabase(ctx);
      if (empty && canSeedPhysically(ctx, primary, replica)) {
        return [
          { kind: 'note', machine: replica.name, text: `${replica.name} holds no data: a physical copy of ${primary.name}, streamed machine to machine` },
          ...physicalSeedCommands(primary, replica).map((c): Change => ({ kind: 'command', ...c })),
          ...sqlChanges(replica.name, resetFirst),
          ...sqlChanges(replica.name, await pointAt(ctx, undefined)),
        ];
      }
      const changes: Change[] = [
        ...sqlChanges(replica.name, resetFirst),
        { kind: 'command', machine: replica.name, command: seedCommand(primary, replica, db.port, db.schema, tlsCa(ctx)) },
        { kind: 'note', machine: replica.name, text: 'the admin credentials reach mariadb-dump and mariadb on standard input, in a temporary option file' },
        ...sqlChanges(replica.name, await pointAt(ctx, undefined)),
      ];
      return changes;
    },
    async apply(ctx) {
      const { state, hasRows, empty } = await inspect(ctx);
      if (state === 'replicating') return;
      if (state === 'stopped') {
        await withAdmin(ctx, replica.name, (conn) => runStatements(conn, [sql('START SLAVE')]));
        return;
      }
      if (state === 'clear') {
        const statements = await relink(ctx);
        await withAdmin(ctx, replica.name, (conn) => runStatements(conn, statements));
        return;
      }
      if ((state === 'broken' || hasRows) && !seed.reseed) refuseOverwrite(ctx, state);
      const db = fleetDatabase(ctx);
      if (empty && canSeedPhysically(ctx, primary, replica)) {
        try {
          const gtid = await seedPhysically(ctx, primary, replica);
          // The copy brought the primary's replication records too: cleared before pointing.
          await withAdmin(ctx, replica.name, async (conn) => runStatements(conn, [...resetFirst, ...(await pointAt(ctx, gtid))]));
          return;
        } catch (error) {
          // No route between the two (nothing was sent, the replica untouched): the logical seed goes through MariaDB's port.
          if (!(error instanceof StreamUnreachableError)) throw error;
          ctx.log(`${error.message}: seeding ${replica.name} with a logical copy instead`);
        }
      }
      await withAdmin(ctx, replica.name, (conn) => runStatements(conn, resetFirst));
      const password = await ctx.secret(db.adminPassword);
      const cnf = `[client]\nuser=${db.adminUser}\npassword="${password.replace(/["\\]/g, (c) => `\\${c}`)}"\n`;
      const command = seedCommand(primary, replica, db.port, db.schema, tlsCa(ctx));
      const started = performance.now();
      const result = await ctx.remote(replica.name).run(command, { stdin: cnf, timeoutMs: 60 * 60_000 });
      if (result.code !== 0) throw new RemoteCommandError(replica.name, command, result);
      const gtid = gtidFromSeedOutput(result.stderr);
      ctx.log(`${replica.name}: seeded from ${primary.name} at GTID ${gtid || '(empty)'} in ${Math.round(performance.now() - started)} ms`);
      await withAdmin(ctx, replica.name, async (conn) => runStatements(conn, await pointAt(ctx, gtid)));
    },
    async verify(ctx) {
      let last: Awaited<ReturnType<typeof inspect>> | undefined;
      const ok = await settle(async () => {
        last = await inspect(ctx);
        return last.state === 'replicating' && last.link?.ioRunning === 'Yes';
      }, options.settleMs);
      if (!ok) {
        const link = last?.link;
        throw new ActionError('verify-failed', link
          ? `${replica.name}: replication from ${link.masterHost} not running (io ${link.ioRunning}, sql ${link.sqlRunning}${link.lastError ? `: ${link.lastError}` : ''})`
          : `${replica.name}: no replication configured`);
      }
    },
  };
}
