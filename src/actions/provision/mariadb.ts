/**
 * Turns a bare machine into a MariaDB server of the fleet (runbook §4.2 step 5.2: "initialise
 * the machine and deploy Redis and MySQL"; §4.4: build a new machine from scratch):
 * initialise the data folder once, write lifeboat's drop-in, start the server with the
 * fleet's `database.driver`, wait until it answers, then create the fleet's accounts and the
 * schema database. Every step is skipped when its effect is already there, so a run that
 * died half-way is simply run again.
 */
import { runChecked, type Remote } from '../../remote/remote.ts';
import { ActionError, type Action, type ActionContext, type Change } from '../action.ts';
import { fleetDatabase, machineAddress } from '../db-connection.ts';
import { driverFor, type DriverOptions, type ServiceDriver } from '../drivers/index.ts';
import { unifiedDiff } from '../text-diff.ts';
import { accountStatements, renderScript, sqlChanges } from './mariadb-accounts.ts';
import { runAsRoot, selectRow, tryLogin, waitAnsweringCommand } from './mariadb-client.ts';
import {
  baseConfigPath,
  DEBIAN_MARIADB_PATHS,
  dropInPath,
  renderBaseConfig,
  renderDropIn,
  type DbRole,
  type DropInSpec,
  type MariadbPaths,
} from './mariadb-config.ts';
import { bash, readTextOrUndefined, shq } from './remote-shell.ts';

export type { DbRole, MariadbPaths } from './mariadb-config.ts';

export interface ProvisionMariadbOptions {
  /** Unique in the fleet; replication refuses two servers with one id. */
  serverId: number;
  role: DbRole;
  /**
   * Where the server listens. Default the machine's fleet address and 127.0.0.1 (MariaDB
   * takes a comma-separated list): the seed points services on the same machine at
   * `localhost` (§4.3 step 5), the other machines come through the fleet address.
   */
  bindAddress?: string;
  /** Default Debian's layout (/etc/mysql, /var/lib/mysql, /run/mysqld). */
  paths?: Partial<MariadbPaths>;
  /** Extra `[mariadbd]` settings, e.g. `{ 'innodb-buffer-pool-size': '256M' }` on a small machine. */
  settings?: Record<string, string | number>;
  drivers?: DriverOptions;
  /** How long the server may take to answer after its start. Default 60 s. */
  startWithinMs?: number;
}

interface Setup {
  remote: Remote;
  paths: MariadbPaths;
  spec: DropInSpec;
  driver: ServiceDriver;
  dropIn: string;
}

/** What the running server must report, by variable, as SELECT prints it. */
function expectedLive(spec: DropInSpec): Record<string, string> {
  return {
    server_id: String(spec.serverId),
    log_bin: '1',
    binlog_format: 'ROW',
    gtid_strict_mode: '1',
    log_slave_updates: '1',
    bind_address: spec.bindAddress,
    port: String(spec.port),
  };
}

async function liveSettings(remote: Remote, socket: string, names: readonly string[]): Promise<Record<string, string>> {
  const row = await selectRow(remote, socket, `SELECT ${names.map((n) => `@@GLOBAL.${n}`).join(', ')}`);
  return Object.fromEntries(names.map((n, i) => [n, row[i] ?? '']));
}

function mismatches(live: Record<string, string>, want: Record<string, string>): string[] {
  return Object.entries(want)
    .filter(([name, value]) => live[name] !== value)
    .map(([name, value]) => `${name} is ${JSON.stringify(live[name])}, expected ${JSON.stringify(value)}`);
}

export function installDbCommand(paths: MariadbPaths): string {
  return `mariadb-install-db --defaults-file=${shq(baseConfigPath(paths))} --user=mysql --skip-test-db --datadir=${shq(paths.datadir)}`;
}

function runtimeDirsCommand(paths: MariadbPaths): string {
  const dirs = [...new Set([paths.socket, paths.pidFile].map((p) => p.slice(0, p.lastIndexOf('/')) || '/'))];
  return `install -d -o mysql -g mysql -- ${dirs.map(shq).join(' ')}`;
}

export function provisionMariadb(machine: string, options: ProvisionMariadbOptions): Action {
  const startWithinMs = options.startWithinMs ?? 60_000;

  function setup(ctx: ActionContext): Setup {
    const db = fleetDatabase(ctx);
    if (db.engine !== 'mariadb') {
      throw new ActionError('not-supported', `${machine}: provisioning knows MariaDB only (mariadb-install-db, gtid-strict-mode); the fleet says ${db.engine}`);
    }
    const paths = { ...DEBIAN_MARIADB_PATHS, ...options.paths };
    const bindAddress = options.bindAddress ?? [...new Set([machineAddress(ctx, machine), '127.0.0.1'])].join(',');
    const spec: DropInSpec = { machine, role: options.role, serverId: options.serverId, bindAddress, port: db.port, paths, settings: options.settings };
    return { remote: ctx.remote(machine), paths, spec, driver: driverFor('mariadb', db.driver, options.drivers), dropIn: renderDropIn(spec) };
  }

  async function initialised(remote: Remote, paths: MariadbPaths): Promise<boolean> {
    return (await remote.run(`test -d ${shq(`${paths.datadir}/mysql`)}`)).code === 0;
  }

  /** Why a running server must restart to take the drop-in, or [] when it already runs with it. */
  async function staleSettings(s: Setup): Promise<string[]> {
    const want = expectedLive(s.spec);
    return mismatches(await liveSettings(s.remote, s.paths.socket, Object.keys(want)), want);
  }

  function readOnlyStatement(): { sql: string; params: unknown[] } {
    return { sql: 'SET GLOBAL read_only = ?', params: [options.role === 'replica' ? 'ON' : 'OFF'] };
  }

  return {
    title: `Provision MariaDB on ${machine} as the ${options.role} (server-id ${options.serverId})`,
    machines: [machine],
    mutating: true,
    async plan(ctx) {
      const s = setup(ctx);
      const db = fleetDatabase(ctx);
      const changes: Change[] = [];
      const base = await readTextOrUndefined(s.remote, baseConfigPath(s.paths));
      if (base === undefined) {
        changes.push({ kind: 'file', machine, path: baseConfigPath(s.paths), diff: unifiedDiff('', renderBaseConfig(s.paths), { path: baseConfigPath(s.paths) }) });
      }
      const before = (await readTextOrUndefined(s.remote, dropInPath(s.paths))) ?? '';
      const diff = unifiedDiff(before, s.dropIn, { path: dropInPath(s.paths) });
      changes.push(diff ? { kind: 'file', machine, path: dropInPath(s.paths), diff } : { kind: 'note', machine, text: `${dropInPath(s.paths)} is already in place` });
      changes.push({ kind: 'command', machine, command: runtimeDirsCommand(s.paths) });
      changes.push(
        (await initialised(s.remote, s.paths))
          ? { kind: 'note', machine, text: `${s.paths.datadir} is already initialised` }
          : { kind: 'command', machine, command: installDbCommand(s.paths) },
      );
      const state = await s.driver.status(s.remote);
      if (state !== 'running') changes.push({ kind: 'command', machine, command: s.driver.commands.start });
      else {
        // A plan only describes: an unreadable server is named, and apply refuses to guess.
        const stale = await staleSettings(s).catch((error: unknown) => [`its settings cannot be read (${(error as Error).message}): apply will stop`]);
        changes.push(stale.length ? { kind: 'command', machine, command: s.driver.commands.restart } : { kind: 'note', machine, text: 'MariaDB already runs with these settings' });
      }
      changes.push({ kind: 'command', machine, command: waitAnsweringCommand(s.paths.socket, startWithinMs) });
      changes.push(...sqlChanges(machine, [...accountStatements(db), readOnlyStatement()]));
      return changes;
    },
    async apply(ctx) {
      const s = setup(ctx);
      const db = fleetDatabase(ctx);
      try {
        await runChecked(s.remote, `mkdir -p -- ${shq(`${s.paths.etcDir}/conf.d`)} ${shq(`${s.paths.etcDir}/mariadb.conf.d`)}`);
        if ((await readTextOrUndefined(s.remote, baseConfigPath(s.paths))) === undefined) {
          await s.remote.writeFile(baseConfigPath(s.paths), renderBaseConfig(s.paths), { mode: 0o644 });
        }
        const written = await s.remote.writeFile(dropInPath(s.paths), s.dropIn, { backup: true, mode: 0o644 });
        await runChecked(s.remote, runtimeDirsCommand(s.paths));
        if (!(await initialised(s.remote, s.paths))) {
          await runChecked(s.remote, bash(`${installDbCommand(s.paths)} >/dev/null`), { timeoutMs: 5 * 60_000 });
          ctx.log(`${machine}: ${s.paths.datadir} initialised`);
        }
        const state = await s.driver.status(s.remote);
        if (state !== 'running') {
          await s.driver.start(s.remote);
          ctx.log(`${machine}: MariaDB started`);
        } else {
          // No error is a fact: settings that cannot be read are not "stale" (a restart on a guess).
          const stale = written.unchanged ? await staleSettings(s).catch((cause: unknown) => {
            throw new ActionError('apply-failed', `${machine}: MariaDB runs but its settings cannot be read over ${s.paths.socket}; not restarting it on a guess`, { cause });
          }) : ['drop-in changed'];
          if (stale.length > 0) {
            await s.driver.restart(s.remote);
            ctx.log(`${machine}: MariaDB restarted to take the new settings (${stale[0]})`);
          }
        }
        await runChecked(s.remote, waitAnsweringCommand(s.paths.socket, startWithinMs), { timeoutMs: startWithinMs + 10_000 });
        const script = await renderScript([...accountStatements(db), readOnlyStatement()], (ref) => ctx.secret(ref));
        await runAsRoot(s.remote, s.paths.socket, script);
        ctx.log(`${machine}: MariaDB accounts (${[db.adminUser, db.user, ...(db.replicationPassword ? [db.replicationUser] : [])].join(', ')}) and schema ${db.schema} in place`);
      } catch (error) {
        if (error instanceof ActionError) throw error;
        throw new ActionError('apply-failed', `${machine}: provisioning MariaDB failed: ${(error as Error).message}`, { cause: error });
      }
    },
    async verify(ctx) {
      const s = setup(ctx);
      const db = fleetDatabase(ctx);
      const state = await s.driver.status(s.remote);
      if (state !== 'running') throw new ActionError('verify-failed', `${machine}: MariaDB is ${state} (${s.driver.commands.status})`);
      const want = { ...expectedLive(s.spec), read_only: options.role === 'replica' ? '1' : '0' };
      let live: Record<string, string>;
      try {
        live = await liveSettings(s.remote, s.paths.socket, Object.keys(want));
      } catch (error) {
        throw new ActionError('verify-failed', `${machine}: MariaDB does not answer on ${s.paths.socket}`, { cause: error });
      }
      const wrong = mismatches(live, want);
      if (wrong.length > 0) throw new ActionError('verify-failed', `${machine}: MariaDB runs with other settings: ${wrong.join('; ')}`);
      // Log in as each account over TCP, where the other machines will come from.
      const host = s.spec.bindAddress.split(',')[0]!;
      const logins = [
        { user: db.adminUser, ref: db.adminPassword, database: undefined as string | undefined },
        { user: db.user, ref: db.password, database: db.schema },
        ...(db.replicationPassword ? [{ user: db.replicationUser, ref: db.replicationPassword, database: undefined }] : []),
      ];
      for (const login of logins) {
        const result = await tryLogin(s.remote, { user: login.user, password: await ctx.secret(login.ref), host, port: db.port, ...(login.database ? { database: login.database } : {}) });
        if (!result.ok) throw new ActionError('verify-failed', `${machine}: ${login.user} cannot log in at ${host}:${db.port}${login.database ? ` to ${login.database}` : ''}: ${result.error}`);
        if (result.currentUser !== `${login.user}@%`) {
          throw new ActionError('verify-failed', `${machine}: ${login.user} logged in as ${result.currentUser}, expected ${login.user}@%`);
        }
      }
    },
  };
}
