/**
 * A real supervisord (Debian's supervisor) with a temp config and a unix socket, running the
 * programs given; `stop()` ends it by pid (it stops its children) and removes the folder.
 */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir, waitFor } from './support.ts';
import { LocalRemote } from '../../src/remote/local.ts';

export interface TestSupervisor {
  dir: string;
  /** The supervisorctl command prefix for this instance. */
  supervisorctl: string;
  stop(): Promise<void>;
}

export async function startSupervisor(programs: Record<string, string>): Promise<TestSupervisor> {
  const { dir, cleanup } = await tempDir('supervisor');
  const conf = join(dir, 'supervisord.conf');
  const sections = Object.entries(programs).map(
    ([name, command]) => `[program:${name}]
command=${command}
autostart=false
autorestart=false
startsecs=0
stopwaitsecs=3
stopasgroup=true
killasgroup=true
stdout_logfile=${dir}/${name}.log
redirect_stderr=true
`,
  );
  await writeFile(
    conf,
    `[unix_http_server]
file=${dir}/supervisor.sock

[supervisord]
nodaemon=true
user=root
logfile=${dir}/supervisord.log
pidfile=${dir}/supervisord.pid
childlogdir=${dir}

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://${dir}/supervisor.sock

${sections.join('\n')}`,
  );
  const child = spawn('supervisord', ['-n', '-c', conf], { stdio: 'ignore' });
  const supervisorctl = `supervisorctl -c ${conf}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    await cleanup();
  };
  try {
    const local = new LocalRemote('supervisor');
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error('supervisord exited');
      return (await local.run(`${supervisorctl} pid`, { timeoutMs: 2000 })).code === 0;
    }, 10_000, 100);
  } catch (error) {
    await stop();
    throw error;
  }
  return { dir, supervisorctl, stop };
}
