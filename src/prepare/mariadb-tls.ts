/**
 * MariaDB serves TLS with the machine's certificate (src/prepare/tls-certificates.ts): the
 * paths in a my.cnf drop-in, loaded by one restart of the server (its ssl_* settings are read
 * only at start); a renewed certificate is loaded later with FLUSH SSL, no restart.
 *
 * Whether the server speaks TLS is asked over a TLS connection: a server without it refuses
 * that before any password is sent, so the question leaks nothing on the wire.
 */
import { X509Certificate } from 'node:crypto';
import type mysql from 'mysql2/promise';
import { ActionError, type Action, type ActionContext, type Change } from '../actions/action.ts';
import { connectAdmin, fleetDatabase } from '../actions/db-connection.ts';
import { fileChange, fileDelta, readIfExists, verifyDesired, writeDesired, type DesiredFile } from '../actions/desired-file.ts';
import { driverFor } from '../actions/drivers/index.ts';
import type { Fleet, Machine } from '../fleet/schema.ts';
import { machineTlsFiles } from '../remote/tls.ts';
import { globals, globalStatus } from './mariadb-state.ts';
import type { PrepareOptions } from './prepare-options.ts';

export function tlsDropInText(fleet: Fleet, m: Machine): string {
  const f = machineTlsFiles(fleet);
  return [
    `# Written by \`lifeboat prepare\`: MariaDB on ${m.name} serves TLS with its certificate from the fleet's CA.`,
    '# Change the fleet file (tls), not this file.',
    '[mariadbd]',
    `ssl_ca = ${f.ca}`,
    `ssl_cert = ${f.cert}`,
    `ssl_key = ${f.mariadbKey}`,
    'tls_version = TLSv1.2,TLSv1.3',
    '',
  ].join('\n');
}

type TlsState = 'serving' | 'no-tls' | 'other-files' | 'old-certificate';

async function tlsState(ctx: ActionContext, m: Machine): Promise<{ state: TlsState; detail: string }> {
  const f = machineTlsFiles(ctx.fleet);
  let db: mysql.Connection;
  try {
    db = await connectAdmin(ctx, m.name, { connectTimeoutMs: 3000 });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    if (cause?.code === 'HANDSHAKE_NO_SSL_SUPPORT') return { state: 'no-tls', detail: `MariaDB on ${m.name} does not serve TLS yet` };
    throw error;
  }
  try {
    const vars = await globals(db, ['ssl_cert', 'ssl_key', 'ssl_ca']);
    if (vars.ssl_cert !== f.cert || vars.ssl_key !== f.mariadbKey || vars.ssl_ca !== f.ca) {
      return { state: 'other-files', detail: `MariaDB on ${m.name} serves TLS from other files (${vars.ssl_cert || '-'})` };
    }
    const served = (await globalStatus(db, ['ssl_server_not_after'])).ssl_server_not_after ?? '';
    const file = await readIfExists(ctx.remote(m.name), f.cert);
    const onDisk = file ? new X509Certificate(file).validTo : '';
    // Both in OpenSSL's print format ("Mar  1 12:00:00 2027 GMT"): compared as dates.
    if (!onDisk || Date.parse(served) !== Date.parse(onDisk)) return { state: 'old-certificate', detail: `MariaDB on ${m.name} serves a certificate valid until ${served}, the file's is valid until ${onDisk || '-'}` };
    return { state: 'serving', detail: 'serving TLS' };
  } finally {
    await db.end().catch(() => db.destroy());
  }
}

export function mariadbTls(m: Machine, options: PrepareOptions): Action {
  const dropIn = (ctx: ActionContext): DesiredFile => {
    const path = typeof options.mariadbTlsDropIn === 'string' ? options.mariadbTlsDropIn : options.mariadbTlsDropIn(m.name);
    return { machine: m.name, path, content: tlsDropInText(ctx.fleet, m), mode: 0o644 };
  };
  const driver = (ctx: ActionContext) => driverFor('mariadb', fleetDatabase(ctx).driver, { timeoutMs: 180_000 });

  async function waitServing(ctx: ActionContext): Promise<void> {
    const deadline = Date.now() + Math.max(options.settleMs, 60_000);
    let last = '';
    while (Date.now() < deadline) {
      try {
        const s = await tlsState(ctx, m);
        if (s.state === 'serving') return;
        last = s.detail;
      } catch (error) {
        last = (error as Error).message;
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    throw new ActionError('verify-failed', `${m.name}: MariaDB does not serve TLS after its restart: ${last}`);
  }

  return {
    title: `MariaDB on ${m.name} serves TLS`,
    machines: [m.name],
    mutating: true,
    async plan(ctx) {
      const f = dropIn(ctx);
      const { before, after } = await fileDelta(ctx, f);
      const changes: Change[] = fileChange(f, before, after);
      // Unreadable is said as such, never planned as a restart.
      const s = await tlsState(ctx, m).catch((error: Error) => ({ state: 'unknown' as const, detail: `cannot tell whether MariaDB on ${m.name} serves TLS: ${error.message}` }));
      if (s.state === 'unknown') {
        changes.push({ kind: 'note', machine: m.name, text: s.detail });
      } else if (s.state === 'no-tls' || s.state === 'other-files') {
        changes.push({ kind: 'command', machine: m.name, command: driver(ctx).commands.restart });
        changes.push({ kind: 'note', machine: m.name, text: `${s.detail}: MariaDB restarts once to load its certificate (seconds without the database on ${m.name})` });
      } else if (s.state === 'old-certificate') {
        changes.push({ kind: 'sql', machine: m.name, sql: 'FLUSH SSL', params: [] });
      }
      return changes;
    },
    async apply(ctx) {
      await writeDesired(ctx, dropIn(ctx));
      const s = await tlsState(ctx, m);
      if (s.state === 'no-tls' || s.state === 'other-files') {
        ctx.log(`${m.name}: restarting MariaDB to load TLS`);
        await driver(ctx).restart(ctx.remote(m.name));
        await waitServing(ctx);
      } else if (s.state === 'old-certificate') {
        const db = await connectAdmin(ctx, m.name);
        try {
          await db.query('FLUSH SSL');
        } finally {
          await db.end().catch(() => db.destroy());
        }
      }
    },
    async verify(ctx) {
      await verifyDesired(ctx, dropIn(ctx));
      const s = await tlsState(ctx, m);
      if (s.state !== 'serving') throw new ActionError('verify-failed', s.detail);
    },
  };
}
