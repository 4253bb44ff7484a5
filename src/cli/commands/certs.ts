/**
 * `lifeboat certs list|issue|renew`: the certificates of every domain and spare domain of
 * the fleet, from the ACME CA the fleet file names (src/certs/). `list` asks no one; `issue`
 * and `renew` ask the CA only for what `policy.ts` says needs it, one domain at a time, and
 * carry on past a domain that fails (each says why).
 */
import type { Command } from 'commander';
import { CertError, ensureCertificate, heldCertificate } from '../../certs/acme.ts';
import { acmeDir, directoryUrl, fleetAcmeSettings, fleetDomains } from '../../certs/fleet-certs.ts';
import { whyIssue } from '../../certs/policy.ts';
import { loadFleet } from '../../fleet/load.ts';
import { secretBaseDir, secretResolver } from '../../fleet/secrets.ts';
import { EXIT, UsageError } from '../exit.ts';
import { fleetFileOf, fleetOption } from '../options.ts';

interface Row {
  domain: string;
  holder: string;
  status: 'ok' | 'renew' | 'missing' | 'issued' | 'failed';
  notAfter?: string;
  daysLeft?: number;
  detail: string;
}

const DAY = 86_400_000;

function print(rows: Row[], json: boolean, header: string): void {
  if (json) {
    process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
    return;
  }
  const lines = [header, ...rows.map((r) => `${r.status.padEnd(8)} ${r.domain.padEnd(28)} ${r.holder.padEnd(12)} ${r.notAfter ? `${r.notAfter.slice(0, 10)} (${r.daysLeft} days)` : '-'.padEnd(10)}  ${r.detail}`)];
  process.stdout.write(lines.join('\n') + '\n');
}

async function selected(options: { fleet?: string; domain?: string[] }) {
  const path = fleetFileOf(options);
  const fleet = await loadFleet(path);
  const all = fleetDomains(fleet);
  const unknown = (options.domain ?? []).filter((d) => !all.some((x) => x.domain === d.toLowerCase()));
  if (unknown.length) throw new UsageError(`not a domain of the fleet file (machines' domains or spareDomains): ${unknown.join(', ')}`);
  const domains = options.domain?.length ? all.filter((x) => options.domain!.some((d) => d.toLowerCase() === x.domain)) : all;
  if (domains.length === 0) throw new UsageError('the fleet file names no domain (machines[].domains, spareDomains)');
  return { path, fleet, domains };
}

export function registerCerts(program: Command): void {
  const certs = program.command('certs').description("Certificates for every domain and spare domain, from the fleet's ACME CA by DNS-01");
  const domainOption = (c: Command) => c.option('--domain <name...>', 'only these domains (default: every one of the fleet file)').option('--json', 'machine-readable output');

  domainOption(fleetOption(certs.command('list')))
    .description('Each domain\'s certificate as kept on this machine: valid until when, or missing; asks no one')
    .addHelpText('after', '\nExit codes: 0 every certificate is there with more than 30 days left, 1 some are missing or due for renewal, 2 bad input.')
    .action(async (options: { fleet?: string; domain?: string[]; json?: boolean }) => {
      const { fleet, domains } = await selected(options);
      const settings = { dir: acmeDir(fleet), directoryUrl: directoryUrl(fleet) };
      const now = new Date();
      const rows: Row[] = [];
      for (const { domain, holder } of domains) {
        const held = await heldCertificate(settings, [domain]);
        const why = whyIssue(held?.held, [domain], now);
        rows.push({
          domain, holder, status: !held ? 'missing' : why ? 'renew' : 'ok', detail: why ?? held!.held.issuer,
          ...(held ? { notAfter: held.held.notAfter.toISOString(), daysLeft: Math.floor((held.held.notAfter.getTime() - now.getTime()) / DAY) } : {}),
        });
      }
      print(rows, options.json ?? false, `certificates from ${settings.directoryUrl} in ${settings.dir}`);
      process.exitCode = rows.every((r) => r.status === 'ok') ? EXIT.ok : EXIT.unhealthy;
    });

  for (const [name, description] of [
    ['issue', 'Get a certificate for each domain that has none valid for more than 30 days (a held one is kept: moving a domain needs no new one)'],
    ['renew', 'The same as issue, said for the monthly run: only certificates within 30 days of expiry are asked for again'],
  ] as const) {
    domainOption(fleetOption(certs.command(name)))
      .description(description)
      .addHelpText('after', '\nExit codes: 0 every domain has a valid certificate, 1 some could not get one (each says why), 2 bad input.')
      .action(async (options: { fleet?: string; domain?: string[]; json?: boolean }) => {
        const { path, fleet, domains } = await selected(options);
        const log = options.json ? undefined : (line: string) => process.stderr.write(`${line}\n`);
        const settings = await fleetAcmeSettings(fleet, secretResolver(process.env, secretBaseDir(path)), domains.map((d) => d.domain), log);
        const rows: Row[] = [];
        for (const { domain, holder } of domains) {
          try {
            const r = await ensureCertificate(settings, [domain]);
            rows.push({ domain, holder, status: r.issued ? 'issued' : 'ok', notAfter: r.certificate.notAfter.toISOString(), daysLeft: Math.floor((r.certificate.notAfter.getTime() - Date.now()) / DAY), detail: r.issued ? r.reason : 'held' });
          } catch (error) {
            if (!(error instanceof CertError)) throw error;
            rows.push({ domain, holder, status: 'failed', detail: `${error.code}: ${error.message}` });
          }
        }
        print(rows, options.json ?? false, `certificates from ${settings.directoryUrl}`);
        process.exitCode = rows.every((r) => r.status !== 'failed') ? EXIT.ok : EXIT.unhealthy;
      });
  }
}
