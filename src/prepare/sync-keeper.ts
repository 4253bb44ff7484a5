/**
 * Keeps a lifeboat loop running on a machine under the service manager the fleet already
 * uses there (the driver of the service the loop serves): a supervisor program or a systemd
 * unit. Both restart the loop when it dies and start it at boot.
 */
import { ActionError, type Action, type ActionContext, type Change } from '../actions/action.ts';
import type { DriverSpec } from '../fleet/schema.ts';
import { runChecked, shq } from '../remote/remote.ts';
import { fileChange, fileDelta, verifyDesired, writeDesired, type DesiredFile } from '../actions/desired-file.ts';
import { settle } from './settle.ts';

export interface KeeperOptions {
  /** supervisor's include folder. */
  supervisorConfDir: string;
  supervisorctl: string;
  systemdDir: string;
}

export const DEFAULT_KEEPER: KeeperOptions = {
  supervisorConfDir: '/etc/supervisor/conf.d',
  supervisorctl: 'supervisorctl',
  systemdDir: '/etc/systemd/system',
};

interface Keeper {
  file: DesiredFile;
  /** Makes the manager pick up the file and (re)start the program. */
  activate: string;
  /** Exits 0 when the program runs. */
  running: string;
}

function keeperFor(machine: string, name: string, command: string, driver: DriverSpec, o: KeeperOptions, fingerprint: string): Keeper {
  switch (driver.type) {
    case 'supervisor':
      return {
        file: {
          machine, path: `${o.supervisorConfDir}/${name}.conf`, mode: 0o644,
          content: [
            `; Written by \`lifeboat prepare\`.${fingerprint ? ` Version ${fingerprint}.` : ''}`, `[program:${name}]`, `command=${command.replace(/%/g, '%%')}`, 'user=root',
            'autostart=true', 'autorestart=true', 'startsecs=1', 'startretries=1000', 'stopasgroup=true', 'killasgroup=true',
            'redirect_stderr=true', `stdout_logfile=/var/log/supervisor/${name}.log`, 'stdout_logfile_maxbytes=5MB', 'stdout_logfile_backups=1', '',
          ].join('\n'),
        },
        // `update` restarts a program whose section changed and starts a new one.
        // then a program that exists but gave up (FATAL) or was stopped is started again.
        activate: `${o.supervisorctl} reread >/dev/null && ${o.supervisorctl} update ${shq(name)} && ` +
          `{ if ${o.supervisorctl} status ${shq(name)} | grep -Eq 'STOPPED|EXITED|FATAL|BACKOFF'; then ${o.supervisorctl} start ${shq(name)}; fi; }`,
        running: `${o.supervisorctl} status ${shq(name)} | grep -q RUNNING`,
      };
    case 'systemd':
      return {
        file: {
          machine, path: `${o.systemdDir}/${name}.service`, mode: 0o644,
          content: [
            `# Written by \`lifeboat prepare\`.${fingerprint ? ` Version ${fingerprint}.` : ''}`, '[Unit]', `Description=lifeboat ${name}`, 'After=network-online.target', '',
            '[Service]', `ExecStart=${command}`, 'Restart=always', 'RestartSec=2', '', '[Install]', 'WantedBy=multi-user.target', '',
          ].join('\n'),
        },
        activate: `systemctl daemon-reload && systemctl enable ${shq(name)} && systemctl restart ${shq(name)}`,
        running: `systemctl is-active --quiet ${shq(name)}`,
      };
    case 'command':
      throw new ActionError('not-supported', `${machine}: services there are started by plain commands; lifeboat needs supervisor or systemd to keep ${name} running`);
  }
}

export interface KeepRunningOptions {
  keeper?: KeeperOptions;
  settleMs?: number;
  /** Written into the program's file: when it changes, the manager restarts the program. */
  fingerprint?: (ctx: ActionContext) => string;
}

/** The loop `command` runs as `name` on `machine`, kept by the manager of `driver`. */
export function keepRunning(title: string, machine: string, name: string, command: string, driver: DriverSpec, o: KeepRunningOptions = {}): Action {
  const options = o.keeper ?? DEFAULT_KEEPER;
  const settleMs = o.settleMs ?? 10_000;
  const keeper = (ctx: ActionContext) => keeperFor(machine, name, command, driver, options, o.fingerprint?.(ctx) ?? '');
  const isRunning = async (ctx: ActionContext) => (await ctx.remote(machine).run(keeper(ctx).running, { timeoutMs: 15_000 })).code === 0;
  return {
    title,
    machines: [machine],
    mutating: true,
    async plan(ctx) {
      const k = keeper(ctx);
      const { before, after } = await fileDelta(ctx, k.file);
      const changes: Change[] = fileChange(k.file, before, after);
      if (changes.length || !(await isRunning(ctx))) changes.push({ kind: 'command', machine, command: k.activate });
      return changes;
    },
    async apply(ctx) {
      const k = keeper(ctx);
      const wrote = await writeDesired(ctx, k.file);
      if (wrote || !(await isRunning(ctx))) await runChecked(ctx.remote(machine), k.activate, { timeoutMs: 30_000 });
    },
    async verify(ctx) {
      await verifyDesired(ctx, keeper(ctx).file);
      if (!(await settle(() => isRunning(ctx), settleMs))) throw new ActionError('verify-failed', `${machine}: ${name} is not running (${keeper(ctx).running})`);
    },
  };
}
