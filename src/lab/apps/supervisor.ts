/**
 * How the lab runs a stand-in under supervisor inside a host. The repo is mounted read-only
 * at `/lifeboat` in every lab host; the stand-ins run from their pre-built bundle
 * (bundle.ts), whose npm imports resolve from /lifeboat/node_modules.
 */
import { BUNDLE_DIR, BUNDLE_FILE } from './bundle.ts';
import type { ServiceName } from './config.ts';

export const LAB_REPO_MOUNT = '/lifeboat';

export interface SupervisorProgram {
  name: ServiceName;
  command: string;
  directory: string;
}

export function supervisorProgram(service: ServiceName, repoRoot = LAB_REPO_MOUNT): SupervisorProgram {
  return {
    name: service,
    command: `/usr/bin/node ${repoRoot}/${BUNDLE_DIR}/${BUNDLE_FILE} ${service}`,
    directory: repoRoot,
  };
}

/** A `[program:NAME]` section for supervisord.conf; logs go to /var/log/supervisor. */
export function supervisorSection(service: ServiceName, repoRoot = LAB_REPO_MOUNT): string {
  const p = supervisorProgram(service, repoRoot);
  return [
    `[program:${p.name}]`,
    `command=${p.command}`,
    `directory=${p.directory}`,
    'autostart=true',
    'autorestart=true',
    // A bad config exits 78 at once: let supervisor mark it FATAL instead of looping forever.
    'startsecs=1',
    'startretries=3',
    'stopsignal=TERM',
    'stopwaitsecs=6',
    'redirect_stderr=true',
    `stdout_logfile=/var/log/supervisor/${p.name}.log`,
    'stdout_logfile_maxbytes=5MB',
    'stdout_logfile_backups=1',
    '',
  ].join('\n');
}
