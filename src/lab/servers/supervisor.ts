/**
 * supervisord on hosts that run services (app, upload, job) and on spares (so provisioning
 * a spare only adds programs). The programs are the stand-in services of src/lab/apps,
 * installed with their config files by ./standins.ts; `start` waits until each answers on
 * its port.
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { execChecked, pidAlive, waitTcp, type HostContext, type LabServer } from './context.ts';
import { putDir, putFile } from './files.ts';
import { installStandIns, portsOf, standInPrograms, standInsOf } from './standins.ts';

export interface SupervisorProgram {
  /** Program name, as `supervisorctl` knows it (usually the fleet's service name). */
  name: string;
  command: string;
  directory?: string;
  environment?: Record<string, string>;
  user?: string;
  autostart?: boolean;
  /** Seconds supervisord waits for a clean stop before SIGKILL. */
  stopwaitsecs?: number;
}

/**
 * The programs host `ctx.host` runs under supervisor: the stand-ins of the services it holds
 * (src/lab/apps/supervisor.ts says how each is started).
 */
export async function supervisorPrograms(ctx: HostContext): Promise<SupervisorProgram[]> {
  return standInPrograms(ctx);
}

const SUPERVISORD_CONF = `; Written by lifeboat's lab.
[unix_http_server]
file=/run/supervisor.sock
chmod=0700

[supervisord]
logfile=/var/log/supervisor/supervisord.log
pidfile=/run/supervisord.pid
childlogdir=/var/log/supervisor
nodaemon=true
minfds=1024

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix:///run/supervisor.sock

[include]
files = /etc/supervisor/conf.d/*.conf
`;

export function programConfig(p: SupervisorProgram): string {
  const env = Object.entries(p.environment ?? {})
    .map(([k, v]) => `${k}="${v.replace(/["%]/g, (c) => (c === '%' ? '%%' : '\\"'))}"`)
    .join(',');
  return [
    `; Written by lifeboat's lab for the stand-in service ${p.name}.`,
    `[program:${p.name}]`,
    `command=${p.command.replace(/%/g, '%%')}`,
    ...(p.directory ? [`directory=${p.directory}`] : []),
    ...(env ? [`environment=${env}`] : []),
    `user=${p.user ?? 'root'}`,
    `autostart=${p.autostart === false ? 'false' : 'true'}`,
    'autorestart=true',
    // RUNNING as soon as spawned: supervisord only re-checks a starting program once a
    // second, which made every restart cost ~2 s. Whether it answers is the health check's
    // job, and lifeboat verifies every start with it.
    'startsecs=0',
    'startretries=100',
    `stopwaitsecs=${p.stopwaitsecs ?? 5}`,
    'stopasgroup=true',
    'killasgroup=true',
    'redirect_stderr=true',
    `stdout_logfile=/var/log/supervisor/${p.name}.log`,
    'stdout_logfile_maxbytes=5MB',
    'stdout_logfile_backups=1',
    '',
  ].join('\n');
}

export const supervisor: LabServer = {
  name: 'supervisor',
  wants: (host, _plan, fleet) =>
    // A spare, the lab's own or one the fleet describes: lifeboat installs services there.
    host.kind === 'spare' || host.roles.includes('spare') ||
    // A backup store keeps lifeboat's binlog shipping loop running under it.
    (host.kind === 'fleet' && host.roles.includes('backup-store') && Boolean(fleet.database) && fleet.backups?.binlogs !== false) ||
    (host.kind === 'fleet' && Object.values(fleet.services).some((s) => s.roles.some((r) => host.roles.includes(r)))),
  async configure(ctx) {
    const etc = join(ctx.dir, 'etc-supervisor');
    await putFile(join(etc, 'supervisord.conf'), SUPERVISORD_CONF);
    const confd = join(etc, 'conf.d');
    await putDir(confd);
    await installStandIns(ctx);
    const programs = await supervisorPrograms(ctx);
    const wanted = new Set(programs.map((p) => `${p.name}.conf`));
    for (const name of await readdir(confd)) {
      if (name.endsWith('.conf') && !wanted.has(name)) await rm(join(confd, name));
    }
    // One restart policy for every program (startsecs=0: recoveries restart services and
    // verify them with their health checks, not with supervisord's 1 s start window).
    for (const p of programs) await putFile(join(confd, `${p.name}.conf`), programConfig(p));
    await putDir(join(ctx.dir, 'var-log', 'supervisor'));
  },
  async running(ctx) {
    return (await ctx.exec(pidAlive('/run/supervisord.pid'))).code === 0;
  },
  async refresh(ctx) {
    // Adds and removes programs whose files changed; a stopped program stays stopped.
    await execChecked(ctx, 'supervisorctl -c /etc/supervisor/supervisord.conf update >/dev/null', { timeoutMs: 30_000 });
  },
  async start(ctx) {
    await execChecked(
      ctx,
      `rm -f /run/supervisord.pid /run/supervisor.sock; setsid -f /usr/bin/supervisord -n -c /etc/supervisor/supervisord.conf >>/var/log/supervisor/stdout.log 2>&1 </dev/null; ` +
        `i=0; until [ -S /run/supervisor.sock ]; do i=$((i+1)); [ $i -ge 200 ] && { echo 'supervisord does not answer' >&2; exit 1; }; sleep 0.05; done`,
      { timeoutMs: 20_000 },
    );
    const ports = standInsOf(ctx).flatMap(({ spec }) => portsOf(spec));
    if (ports.length > 0) await execChecked(ctx, ports.map((p) => waitTcp(ctx.host.address, p, 30_000)).join('; '), { timeoutMs: 40_000 });
  },
};
