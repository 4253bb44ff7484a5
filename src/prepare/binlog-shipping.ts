/**
 * `prepare`'s part for binlog shipping (src/backup/binlogs.ts): on every store that keeps the
 * log, the shipping loop's files (what to follow, the replication account's credentials, the
 * loop, and on an off-site store the certificate it seals for) and the loop kept running;
 * then each store must hold the primary's current binary log file.
 */
import { ActionError, type Action, type ActionContext } from '../actions/action.ts';
import { withAdmin } from '../actions/db-connection.ts';
import { verifyDesired, writeDesired, fileChange, fileDelta, type DesiredFile } from '../actions/desired-file.ts';
import { certificateMatches, sealCertificate } from '../backup/binlog-seal.ts';
import { listShipped, SHIP_PROGRAM, shipConf, shipPaths, shippingStores, shipScript } from '../backup/binlogs.ts';
import { servicesOn } from '../fleet/model.ts';
import type { DriverSpec, Fleet, Machine } from '../fleet/schema.ts';
import { parallel, step, type Step } from '../recovery/step.ts';
import { shq } from '../remote/remote.ts';
import type mysql from 'mysql2/promise';
import { postCondition } from './post-condition.ts';
import type { PrepareOptions } from './prepare-options.ts';
import { replicationCredentials } from './replication-account.ts';
import { settle } from './settle.ts';
import { keepRunning } from './sync-keeper.ts';

/** The manager that keeps the loop: the one the store's services use, else the fleet's, else systemd. */
export function storeKeeperDriver(fleet: Fleet, m: Machine): DriverSpec {
  const own = servicesOn(fleet, m).map(([, s]) => s.driver).find((d) => d.type !== 'command');
  const any = Object.values(fleet.services).map((s) => s.driver).find((d) => d.type !== 'command');
  return own ?? any ?? { type: 'systemd', unit: SHIP_PROGRAM };
}

function shipFiles(fleet: Fleet, store: Machine, source: Machine, credentials: string, sealSecret: string | undefined): DesiredFile[] {
  const p = shipPaths(fleet);
  // The public half of the operator's key: any certificate for that key will do, so one
  // already there is kept (a new one differs in its signature every time it is made).
  const sealCert: DesiredFile[] = sealSecret === undefined ? [] : [{
    machine: store.name, path: p.sealCert, mode: 0o644,
    content: async (current) => (current !== undefined && certificateMatches(current, sealSecret) ? current : sealCertificate(sealSecret)),
  }];
  return [
    ...sealCert,
    { machine: store.name, path: p.conf, content: shipConf(fleet, store, source), mode: 0o600 },
    { machine: store.name, path: p.credentials, content: credentials, mode: 0o600, mask: (line) => (line.startsWith('password=') ? 'password=***' : line) },
    { machine: store.name, path: p.script, content: shipScript(p), mode: 0o700 },
  ];
}

/** The option file mariadb and mariadb-binlog read the replication account from. */
async function credentialsText(ctx: ActionContext): Promise<string> {
  const { user, password } = await replicationCredentials(ctx);
  return `[client]\nuser=${user}\npassword="${password.replace(/["\\]/g, (c) => `\\${c}`)}"\n`;
}

/** The backup key an off-site store's log is sealed for (shippingStores has one only with it). */
async function sealSecret(ctx: ActionContext, store: Machine): Promise<string | undefined> {
  if (!store.offsite) return undefined;
  const ref = ctx.fleet.backups?.encryptionKey;
  if (!ref) throw new ActionError('precondition', `${store.name} is off-site: set backups.encryptionKey so the binary log it keeps is sealed`);
  return ctx.secret(ref);
}

/** The shipping loop's files on `store`, following `source`: written, or planned. */
export function shippingFiles(store: Machine, source: Machine): Action {
  const files = async (ctx: ActionContext) => shipFiles(ctx.fleet, store, source, await credentialsText(ctx), await sealSecret(ctx, store));
  return {
    title: `${store.name} follows ${source.name}'s binary log`,
    machines: [store.name],
    mutating: true,
    async plan(ctx) {
      const out = [];
      for (const f of await files(ctx)) {
        const { before, after } = await fileDelta(ctx, f);
        out.push(...fileChange(f, before, after));
      }
      return out;
    },
    async apply(ctx) {
      const dir = shipPaths(ctx.fleet).dir;
      const mk = await ctx.remote(store.name).run(`install -d -m 0700 ${shq(dir)} && chmod 0700 ${shq(dir)}`, { timeoutMs: 10_000 });
      if (mk.code !== 0) throw new ActionError('apply-failed', `${store.name}: cannot make ${dir}: ${mk.stderr.trim()}`);
      for (const f of await files(ctx)) await writeDesired(ctx, f);
    },
    async verify(ctx) {
      for (const f of await files(ctx)) await verifyDesired(ctx, f);
    },
  };
}

/** The primary's current binary log file (SHOW MASTER STATUS). */
async function currentFile(ctx: ActionContext, source: Machine): Promise<string> {
  return withAdmin(ctx, source.name, async (db) => {
    const [rows] = await db.query<mysql.RowDataPacket[]>('SHOW MASTER STATUS');
    const file = rows[0]?.File;
    if (!file) throw new ActionError('precondition', `${source.name} writes no binary log (log_bin is off): there is nothing to ship`);
    return String(file);
  });
}

export function binlogShippingSteps(fleet: Fleet, source: Machine | undefined, options: PrepareOptions): Step[] {
  const stores = shippingStores(fleet).filter((s) => s.name !== source?.name);
  if (!source || stores.length === 0) return [];
  const p = shipPaths(fleet);
  return [
    parallel(`The stores keep ${source.name}'s binary log as it is written${stores.some((m) => m.offsite) ? ' (sealed on the off-site ones)' : ''}`, stores.map((store) => step(`Binary log shipping to ${store.name}`, [
      shippingFiles(store, source),
      keepRunning(`Keep the shipping loop running on ${store.name}`, store.name, SHIP_PROGRAM, `/bin/bash ${p.script}`, storeKeeperDriver(fleet, store), {
        keeper: options.keeper, settleMs: options.settleMs,
      }),
      postCondition(`${store.name} holds ${source.name}'s current binary log file`, {
        machines: [store.name, source.name],
        describe: `the newest file in ${p.dir}/${source.name} on ${store.name} is the one ${source.name} writes now`,
        async verify(ctx) {
          let last = '';
          let want = '';
          const ok = await settle(async () => {
            want = await currentFile(ctx, source);
            const shipped = (await listShipped(ctx.remote(store.name), ctx.fleet)).find((s) => s.source === source.name);
            last = shipped?.files.at(-1)?.name ?? '';
            return last === want;
          }, options.settleMs);
          if (!ok) {
            const err = await ctx.remote(store.name).run(`tail -c 600 ${shq(p.lastError)} 2>/dev/null`, { timeoutMs: 5000 });
            throw new ActionError('verify-failed', `${store.name}: its newest copy of ${source.name}'s binary log is ${last || 'none'}, not ${want}${err.stdout.trim() ? `: ${err.stdout.trim()}` : ''}`);
          }
        },
      }),
    ]))),
  ];
}

/**
 * A recovery moved the primary: each store's loop follows `heir` from now on (its conf
 * rewritten, the running mariadb-binlog — which may wait on a dead primary's silent link —
 * ended by the pid the loop recorded, so the loop starts again on the new conf).
 */
export function followNewPrimary(store: Machine, heir: Machine): Action {
  const conf = (ctx: ActionContext): DesiredFile => ({ machine: store.name, path: shipPaths(ctx.fleet).conf, content: shipConf(ctx.fleet, store, heir), mode: 0o600 });
  return {
    title: `${store.name} ships ${heir.name}'s binary log from now on`,
    machines: [store.name],
    mutating: true,
    async plan(ctx) {
      const f = conf(ctx);
      const { before, after } = await fileDelta(ctx, f);
      return fileChange(f, before, after);
    },
    async apply(ctx) {
      const wrote = await writeDesired(ctx, conf(ctx));
      if (!wrote) return;
      const pid = shipPaths(ctx.fleet).pid;
      // Only the mariadb-binlog the loop started and recorded; a stale pid names nothing of ours.
      await ctx.remote(store.name).run(`p=$(cat ${shq(pid)} 2>/dev/null) && [ -n "$p" ] && grep -q mariadb-binlog /proc/$p/cmdline 2>/dev/null && kill "$p" || true`, { timeoutMs: 10_000 });
    },
    async verify(ctx) {
      await verifyDesired(ctx, conf(ctx));
    },
  };
}
