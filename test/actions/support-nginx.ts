/**
 * A real nginx (Debian's /usr/sbin/nginx) on 127.0.0.1 under a temp prefix, with a site that
 * proxies `/` to the upstream `app` from the include file lifeboat owns, plus tiny HTTP
 * backends that answer with their own name.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, tempDir, waitFor } from './support.ts';

export interface TestNginx {
  dir: string;
  port: number;
  upstreamFile: string;
  commands: { test: string; reload: string };
  stop(): Promise<void>;
}

/** `initialUpstreams` is the include file's first content: nginx needs `app` to start. */
export async function startNginx(initialUpstreams: string, siteExtra = ''): Promise<TestNginx> {
  const { dir, cleanup } = await tempDir('nginx');
  const port = await freePort();
  const upstreamFile = join(dir, 'conf.d', 'lifeboat-upstreams.conf');
  await mkdir(join(dir, 'conf.d'));
  await mkdir(join(dir, 'logs'));
  await writeFile(upstreamFile, initialUpstreams);
  await writeFile(
    join(dir, 'nginx.conf'),
    `worker_processes 1;
error_log ${dir}/logs/error.log;
pid ${dir}/nginx.pid;
events { worker_connections 64; }
http {
  access_log off;
  include ${dir}/conf.d/*.conf;
  ${siteExtra}
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://app;
      proxy_connect_timeout 1s;
      proxy_read_timeout 2s;
      proxy_next_upstream error timeout;
    }
  }
}
`,
  );
  const base = `nginx -p ${dir} -c ${dir}/nginx.conf -e ${dir}/logs/error.log`;
  const child: ChildProcess = spawn('nginx', ['-p', dir, '-c', `${dir}/nginx.conf`, '-e', `${dir}/logs/error.log`, '-g', 'daemon off;'], {
    stdio: 'ignore',
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGQUIT');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 3000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    await cleanup();
  };
  try {
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error('nginx exited');
      const response = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(500) }).catch(() => undefined);
      return response !== undefined;
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { dir, port, upstreamFile, commands: { test: `${base} -t`, reload: `${base} -s reload` }, stop };
}

export interface NamedBackend {
  name: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

export async function startBackend(name: string): Promise<NamedBackend> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`backend ${name}\n`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address !== 'object') throw new Error('no address');
  return {
    name,
    port: address.port,
    server,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
