/**
 * nginx on edges. The lab writes the machine-wide nginx.conf, a site that forwards to the
 * fleet's upstreams, and a first version of the upstream include file lifeboat owns
 * (`nginx.upstreamFile`): every service's upstream lists the machines holding its roles,
 * the first as the live server and the others as `backup`.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { renderUpstreams, type Upstreams } from '../../actions/nginx-upstreams.ts';
import type { Fleet } from '../../fleet/schema.ts';
import type { LabPlan } from '../plan.ts';
import { execChecked, pidAlive, waitTcp, type HostContext, type LabServer } from './context.ts';
import { putDir, putFile, seedFrom } from './files.ts';

export const EDGE_PORT = 80;

/** Where users reach each stand-in service behind an edge (src/lab/apps/services/*). */
const USER_PATHS: Record<string, string> = { 'go-api': '/api/', 'go-admin': '/admin/', 'go-fly': '/chat/', 'go-upload': '/upload/' };

const NGINX_CONF = `# Written by lifeboat's lab.
user www-data;
worker_processes 1;
pid /run/nginx.pid;
error_log /var/log/nginx/error.log;
include /etc/nginx/modules-enabled/*.conf;
events { worker_connections 512; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log /var/log/nginx/access.log;
  sendfile on;
  keepalive_timeout 30;
  client_max_body_size 64m;
  # A dead upstream must cost a second, not a minute (LAB-NOTES: probes with timeouts).
  proxy_connect_timeout 1s;
  proxy_read_timeout 10s;
  proxy_next_upstream error timeout http_502 http_503 http_504;
  include /etc/nginx/conf.d/*.conf;
}
`;

/** Initial upstreams: the machines of the lab that hold each forwarded service's roles. */
export function initialUpstreams(plan: LabPlan, fleet: Fleet): Upstreams {
  const result: Upstreams = {};
  for (const { name, service } of fleet.nginx?.upstreams ?? []) {
    const spec = fleet.services[service];
    if (!spec?.port) continue;
    const holders = plan.hosts.filter((h) => h.kind === 'fleet' && spec.roles.every((r) => h.roles.includes(r)));
    if (holders.length === 0) continue;
    result[name] = holders.map((h, i) => ({ host: h.address, port: spec.port!, ...(i > 0 ? { backup: true } : {}) }));
  }
  return result;
}

/**
 * The edge site: `/` goes to the first upstream, `/<service>/` to each service's upstream,
 * for every domain (the stand-in services tell requests apart by path and Host).
 */
export function siteConfig(upstreams: Upstreams, fleet: Fleet): string {
  const names = Object.keys(upstreams);
  const lines = [`# Written by lifeboat's lab: the edge site. Upstreams live in the file lifeboat owns.`, 'server {', `  listen ${EDGE_PORT} default_server;`, '  server_name _;'];
  lines.push('  location = /lab-edge-health { return 200 "ok\\n"; }');
  for (const { name, service } of fleet.nginx?.upstreams ?? []) {
    if (!upstreams[name]) continue;
    lines.push(`  location /${service}/ { proxy_pass http://${name}/; proxy_set_header Host $host; proxy_set_header X-Forwarded-For $remote_addr; }`);
  }
  // The users' paths, as the stand-ins serve them (the real edges route the same way).
  for (const { name, service } of fleet.nginx?.upstreams ?? []) {
    const prefix = USER_PATHS[service];
    if (upstreams[name] && prefix) lines.push(`  location ${prefix} { proxy_pass http://${name}; proxy_set_header Host $host; proxy_set_header X-Forwarded-For $remote_addr; }`);
  }
  if (names[0]) lines.push(`  location / { proxy_pass http://${names[0]}; proxy_set_header Host $host; proxy_set_header X-Forwarded-For $remote_addr; }`);
  lines.push('}');
  return lines.join('\n') + '\n';
}

function hostPath(ctx: HostContext, path: string): string {
  // The upstream file lives under /etc/nginx, which is the host's etc-nginx folder.
  return join(ctx.dir, 'etc-nginx', path.replace(/^\/etc\/nginx\//, ''));
}

export const nginx: LabServer = {
  name: 'nginx',
  wants: (host) => host.roles.includes('edge'),
  async configure(ctx) {
    const etc = join(ctx.dir, 'etc-nginx');
    await seedFrom('/etc/nginx', etc, (name) => name === 'sites-enabled' || name === 'conf.d' || name === 'nginx.conf');
    await putFile(join(etc, 'nginx.conf'), NGINX_CONF);
    await putDir(join(etc, 'conf.d'));
    const upstreams = initialUpstreams(ctx.plan, ctx.fleet);
    const upstreamFile = ctx.fleet.nginx?.upstreamFile ?? '/etc/nginx/conf.d/lifeboat-upstreams.conf';
    if (Object.keys(upstreams).length > 0) {
      // lifeboat owns this file once the lab is up: a second `lab up` must not undo a switch-over.
      if (!existsSync(hostPath(ctx, upstreamFile))) await putFile(hostPath(ctx, upstreamFile), renderUpstreams(upstreams));
    }
    await putFile(join(etc, 'conf.d', 'lab-site.conf'), siteConfig(upstreams, ctx.fleet));
    await putDir(join(ctx.dir, 'var-log', 'nginx'));
  },
  async running(ctx) {
    return (await ctx.exec(pidAlive('/run/nginx.pid'))).code === 0;
  },
  async start(ctx) {
    await execChecked(ctx, `rm -f /run/nginx.pid; nginx -t -q && setsid -f nginx -g 'daemon off;' >>/var/log/nginx/stdout.log 2>&1 </dev/null; ${waitTcp(ctx.host.address, EDGE_PORT)}`);
  },
  async stop(ctx, how) {
    await ctx.exec(`p=$(cat /run/nginx.pid 2>/dev/null) && kill -${how === 'crash' ? 'KILL' : 'QUIT'} "$p"`);
  },
};
