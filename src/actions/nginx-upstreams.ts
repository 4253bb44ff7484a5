/**
 * The one nginx include file lifeboat owns on every edge: an `upstream` block per service the
 * edges forward to. Nothing else of nginx is edited; the site files refer to these names and
 * carry the proxy timeouts.
 */
import { joinHostPort } from './goframe-dsn.ts';

export interface UpstreamServer {
  host: string;
  port: number;
  /** Only used when every other server of the block is down. */
  backup?: boolean;
}

/** Upstream name (as in the fleet's `nginx.upstreams`) → its servers, in order. */
export type Upstreams = Record<string, readonly UpstreamServer[]>;

export class UpstreamError extends Error {
  override name = 'UpstreamError';
  constructor(readonly code: 'bad-name' | 'bad-server' | 'empty', message: string) {
    super(message);
  }
}

// Checked here as well as in the fleet: these strings end up in nginx's config syntax.
const NAME = /^[A-Za-z0-9_]+$/;
const HOST = /^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\])$/;

/** A dead server is skipped for `FAIL_TIMEOUT` after one failure, so traffic moves at once. */
const MAX_FAILS = 1;
const FAIL_TIMEOUT = '5s';

export function renderUpstreams(upstreams: Upstreams): string {
  const lines = ['# Managed by lifeboat: rewritten on every switch-over. Edit the fleet file, not this.'];
  for (const [name, servers] of Object.entries(upstreams).sort(([a], [b]) => a.localeCompare(b))) {
    if (!NAME.test(name)) throw new UpstreamError('bad-name', `upstream name ${JSON.stringify(name)}: expected letters, digits and _`);
    if (servers.filter((s) => !s.backup).length === 0) {
      throw new UpstreamError('empty', `upstream ${name} would have no primary server: nginx refuses that and nothing would answer`);
    }
    lines.push('', `upstream ${name} {`);
    for (const server of servers) {
      if (!HOST.test(server.host) || !Number.isInteger(server.port) || server.port < 1 || server.port > 65535) {
        throw new UpstreamError('bad-server', `upstream ${name}: ${JSON.stringify(server)} is not a host and port`);
      }
      lines.push(`    server ${joinHostPort(server.host, server.port)} max_fails=${MAX_FAILS} fail_timeout=${FAIL_TIMEOUT}${server.backup ? ' backup' : ''};`);
    }
    lines.push('}');
  }
  return lines.join('\n') + '\n';
}
