/**
 * BIND on the lab's `dns` host: one zone per domain of the fleet, whose A record is the lab
 * address of the machine that lists the domain. The client host is matched by its own view,
 * so a blocked domain (a poisoned answer, as censors give) can be served to the users'
 * vantage only while every other host still sees the truth. Zones accept RFC 2136 updates
 * signed with the lab's TSIG key (shared/secrets/dns-update.key).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SINKHOLE_ADDRESS, type LabPlan } from '../plan.ts';
import { execChecked, pidAlive, waitTcp, type HostContext, type LabServer } from './context.ts';
import { putDir, putFile } from './files.ts';

export const TSIG_KEY_NAME = 'lab-update';

export function labDomains(plan: LabPlan): Array<{ domain: string; address: string; host: string }> {
  return plan.hosts.flatMap((h) => h.domains.map((domain) => ({ domain, address: h.address, host: h.name })));
}

export function dnsHost(plan: LabPlan) {
  return plan.hosts.find((h) => h.kind === 'dns');
}

export function clientHost(plan: LabPlan) {
  return plan.hosts.find((h) => h.kind === 'client');
}

export function zoneFile(domain: string, address: string, nsAddress: string): string {
  return `; Written by lifeboat's lab.
$TTL 5
@ IN SOA ns.${domain}. hostmaster.${domain}. ( 1 60 30 600 5 )
@ IN NS ns.${domain}.
ns IN A ${nsAddress}
@ IN A ${address}
www IN A ${address}
`;
}

export function tsigKeyFile(secret: string): string {
  return `key "${TSIG_KEY_NAME}" {\n  algorithm hmac-sha256;\n  secret "${secret}";\n};\n`;
}

/** named.conf for the lab; `blocked` domains get the sinkhole answer in the client's view. */
export function namedConf(plan: LabPlan, blocked: ReadonlySet<string>): string {
  const dns = dnsHost(plan);
  const client = clientHost(plan);
  const domains = labDomains(plan);
  const clientZones = domains.map(({ domain }) =>
    blocked.has(domain)
      ? `  zone "${domain}" { type master; file "/etc/bind/poisoned/${domain}.db"; };`
      : `  zone "${domain}" { in-view "main"; };`,
  );
  const defaultZones = domains.map(
    ({ domain }) => `  zone "${domain}" { type master; file "/var/cache/bind/${domain}.db"; allow-update { key "${TSIG_KEY_NAME}"; }; };`,
  );
  return `// Written by lifeboat's lab.
include "/etc/bind/lab-update.key";
options {
  directory "/var/cache/bind";
  pid-file "/run/named/named.pid";
  listen-on { ${dns?.address ?? '127.0.0.1'}; 127.0.0.1; };
  listen-on-v6 { none; };
  recursion no;
  allow-query { any; };
  dnssec-validation no;
  notify no;
};
// Views match in order, and in-view needs its view defined first: so "main" comes first
// and leaves the client out.
view "main" {
  match-clients { !${client?.address ?? '127.0.0.2'}; any; };
${defaultZones.join('\n')}
};
view "client" {
  match-clients { any; };
${clientZones.join('\n')}
};
`;
}

export async function writeNamedConf(ctx: Pick<HostContext, 'dir' | 'plan'>, blocked: ReadonlySet<string>): Promise<void> {
  const etc = join(ctx.dir, 'etc-bind');
  for (const domain of blocked) {
    const dns = dnsHost(ctx.plan);
    await putFile(join(etc, 'poisoned', `${domain}.db`), zoneFile(domain, SINKHOLE_ADDRESS, dns?.address ?? '127.0.0.1'), { owner: 'bind' });
  }
  await putFile(join(etc, 'named.conf'), namedConf(ctx.plan, blocked), { owner: 'bind', mode: 0o640 });
}

/** Makes named re-read its configuration (a blocked or unblocked domain). */
export async function reloadNamed(ctx: HostContext): Promise<void> {
  await execChecked(ctx, 'kill -HUP "$(cat /run/named/named.pid)"');
}

export const bind: LabServer = {
  name: 'bind',
  wants: (host) => host.kind === 'dns',
  async configure(ctx) {
    const etc = join(ctx.dir, 'etc-bind');
    await putDir(etc, { owner: 'bind', mode: 0o2755 });
    await putFile(join(etc, 'lab-update.key'), tsigKeyFile(ctx.secrets.dnsUpdateKey), { owner: 'bind', mode: 0o640 });
    const cache = join(ctx.dir, 'var-cache-bind');
    await putDir(cache, { owner: 'bind', mode: 0o775 });
    for (const { domain, address } of labDomains(ctx.plan)) {
      // Zones take dynamic updates: once written they belong to named (and lifeboat).
      const file = join(cache, `${domain}.db`);
      if (!existsSync(file)) await putFile(file, zoneFile(domain, address, ctx.host.address), { owner: 'bind' });
    }
    await writeNamedConf(ctx, new Set(ctx.faults.flatMap((f) => (f.kind === 'domain-blocked' ? [f.domain] : []))));
    await putDir(join(ctx.dir, 'run', 'named'), { owner: 'bind', mode: 0o775 });
  },
  async running(ctx) {
    return (await ctx.exec(pidAlive('/run/named/named.pid'))).code === 0;
  },
  async start(ctx) {
    await execChecked(
      ctx,
      `rm -f /run/named/named.pid; install -d -o bind -g bind /run/named; setsid -f /usr/sbin/named -g -u bind -4 -c /etc/bind/named.conf >>/var/log/named.log 2>&1 </dev/null; ${waitTcp(ctx.host.address, 53)}`,
    );
  },
};
