/** `lifeboat status [FILE]`: reach every machine and report what is healthy. */
import type { Command } from 'commander';
import { fleetStatus, type FleetStatus } from '../../health/fleet-status.ts';
import { binlogCopies, type BinlogCopyStatus } from '../../backup/binlog-status.ts';
import { loadFleet } from '../../fleet/load.ts';
import { secretBaseDir, secretResolver } from '../../fleet/secrets.ts';
import { RemotePool } from '../../remote/pool.ts';
import { EXIT } from '../exit.ts';
import { fleetFileOf, fleetOption, legacyFleetArgument } from '../options.ts';

export function registerStatus(program: Command): void {
  fleetOption(legacyFleetArgument(program.command('status')))
    .description('Reach every machine over SSH and report: reachable, each declared service running and healthy, MariaDB/Redis answering')
    .option('--json', 'machine-readable output')
    .option('--accept-new-host-keys', 'add unknown SSH host keys to known_hosts (changed keys are always refused)')
    .addHelpText('after', '\nExit codes: 0 every machine healthy, 1 something unhealthy, 2 bad input.')
    .action(async (file: string | undefined, options: { json?: boolean; acceptNewHostKeys?: boolean; fleet?: string }) => {
      const path = fleetFileOf(options, file);
      const fleet = await loadFleet(path);
      const secret = secretResolver(process.env, secretBaseDir(path));
      const pool = RemotePool.forFleet(fleet, {
        secret,
        baseDir: secretBaseDir(path),
        acceptNewHostKeys: options.acceptNewHostKeys ?? false,
      });
      try {
        const remote = (m: string) => pool.get(m);
        const [status, binlogs] = await Promise.all([
          fleetStatus(fleet, { remote, secret }),
          binlogCopies({ fleet, remote, secret, log: () => undefined }),
        ]);
        process.stdout.write(options.json ? JSON.stringify({ ...status, binlogCopies: binlogs }, null, 2) + '\n' : renderStatus(status) + renderBinlogCopies(binlogs));
        // Like the upload sync's, the binary log copies say what a restore would lose; the exit code is the machines' health.
        process.exitCode = status.healthy ? EXIT.ok : EXIT.unhealthy;
      } finally {
        await pool.closeAll();
      }
    });
}

export function renderStatus(status: FleetStatus): string {
  const lines = [`fleet ${status.fleet} — ${status.healthy ? 'healthy' : 'UNHEALTHY'}${status.risks.length ? `, acknowledged writes AT RISK on ${status.risks.map((r) => r.machine).join(', ')}` : ''} (${status.checkedAt})`];
  for (const m of status.machines) {
    if (m.down) {
      lines.push(`--  ${m.name.padEnd(10)} ${m.address.padEnd(15)} ${'(out of service)'.padEnd(36)} since ${m.down.since}, run ${m.down.run}; held ${m.down.roles.join(',') || 'nothing'}`);
      continue;
    }
    const mark = m.healthy ? 'ok ' : 'BAD';
    const reach = m.reachable ? `ssh ${m.latencyMs} ms` : `unreachable: ${m.error ?? 'no answer'}`;
    lines.push(`${mark} ${m.name.padEnd(10)} ${m.address.padEnd(15)} ${m.roles.join(',').padEnd(36)} ${reach}`);
    for (const s of m.services) lines.push(`      ${s.healthy ? 'ok ' : 'BAD'} ${s.name.padEnd(12)} ${s.state.padEnd(8)} ${s.detail}`);
    if (m.mariadb) lines.push(`      ${m.mariadb.ok ? 'ok ' : 'BAD'} ${'mariadb'.padEnd(12)} ${m.mariadb.detail}`);
    if (m.mariadb?.risk) lines.push(`      RISK ${'replication'.padEnd(12)} ${m.mariadb.risk}`);
    if (m.redis) lines.push(`      ${m.redis.ok ? 'ok ' : 'BAD'} ${'redis'.padEnd(12)} ${m.redis.detail}`);
    for (const [what, check] of [['mariadb', m.mariadb], ['redis', m.redis]] as const) {
      // Which links cross the network encrypted: lifeboat's own, and a replica's to its primary.
      if (check?.wire) lines.push(`      ${'   '} ${`${what} wire`.padEnd(12)} lifeboat's connection ${check.wire.connection}${check.wire.link ? `, replication link ${check.wire.link}` : ''}`);
    }
    for (const u of m.uploadSync ?? []) lines.push(`      ${u.ok ? 'ok ' : 'BAD'} ${`${u.service} sync`.padEnd(12)} ${u.detail}`);
    if (m.endpoints) lines.push(`      ${m.endpoints.ok ? 'ok ' : 'BAD'} ${'endpoints'.padEnd(12)} ${m.endpoints.detail}`);
  }
  return lines.join('\n') + '\n';
}

/** Each store's copy of the primary's binary log: how much a restore from it would lose. */
export function renderBinlogCopies(copies: readonly BinlogCopyStatus[]): string {
  if (copies.length === 0) return '';
  return ['binary log copies (what a restore from each store replays up to):', ...copies.map((c) => `  ${c.ok ? 'ok ' : 'BAD'} ${c.store.padEnd(10)} ${c.detail}`)].join('\n') + '\n';
}
