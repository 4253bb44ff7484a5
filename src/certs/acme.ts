/**
 * Certificates for the business's domains from an ACME CA (Let's Encrypt, or Debian's Pebble
 * in tests), validated by DNS-01 through the fleet's DNS provider: a certificate proves the
 * name, not the machine's IP, so a domain moved to another edge keeps its certificate.
 *
 * Everything lives in one private folder on the operator's machine (per ACME directory, so a
 * staging run never mixes with production): the account key, made once and kept, and per
 * certificate its chain and key. `ensureCertificate` asks the CA only when `policy.ts` says
 * so (no valid certificate covering the names with more than 30 days left) and never for a
 * name that failed validation five times within the hour.
 */
import { createHash } from 'node:crypto';
import { Agent } from 'node:https';
import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import acme from 'acme-client';
import { DnsError, normalName, type DnsProvider } from '../dns/provider.ts';
import { describeCertificate, retryAfter, whyIssue, type HeldCertificate } from './policy.ts';

export interface AcmeSettings {
  /** The ACME directory: Let's Encrypt staging first (acme.directory.letsencrypt.staging), then production. */
  directoryUrl: string;
  /** The operator's private folder for accounts and certificates (made 0700). */
  dir: string;
  /** Where each name's `_acme-challenge` TXT record is published. */
  dns: (name: string) => DnsProvider;
  email?: string;
  /** The CA the ACME server's HTTPS is checked against instead of the system's (a private ACME server; Pebble's own in tests). */
  serverCa?: string;
  /**
   * acme-client's own retries of a request that failed on the network (default 5, waiting
   * 5, 10, 15… s). Its one HTTP client is the process's: the setting holds for every order.
   */
  retry?: { attempts: number; delayS: number };
  now?: () => Date;
  log?: (line: string) => void;
}

export interface CertificateResult {
  names: string[];
  /** True when the CA was asked (an order placed and finalised). */
  issued: boolean;
  /** Why it was issued, or why the held one was kept. */
  reason: string;
  certificate: HeldCertificate;
  certPath: string;
  keyPath: string;
}

export class CertError extends Error {
  override name = 'CertError';
  constructor(readonly code: 'unreachable' | 'validation-failed' | 'backoff' | 'dns-refused' | 'bad-input' | 'failed', message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The folder of one ACME directory: its host and a hash of the URL, readable and apart. */
export function directoryFolder(dir: string, directoryUrl: string): string {
  const url = new URL(directoryUrl);
  return join(dir, `${url.hostname}-${createHash('sha256').update(directoryUrl).digest('hex').slice(0, 8)}`);
}

/** A certificate's folder: its names sorted, the first of them and a hash of all, whatever order they were asked in. */
export function certificateFolder(dir: string, directoryUrl: string, names: readonly string[]): string {
  const sorted = [...names].sort();
  return join(directoryFolder(dir, directoryUrl), 'certs', `${sorted[0]!}-${createHash('sha256').update(sorted.join(',')).digest('hex').slice(0, 8)}`);
}

async function privateDir(path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: 0o700 });
  await chmod(path, 0o700);
}

/** Written whole or not at all: a temporary file beside it, then a rename. */
async function writePrivate(path: string, content: string): Promise<void> {
  const temp = `${path}.tmp-${process.pid}`;
  await writeFile(temp, content, { mode: 0o600 });
  await rename(temp, path);
}

async function readIfThere(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** The certificate held for `names`, if any (read from the store, never from a machine). */
export async function heldCertificate(settings: Pick<AcmeSettings, 'dir' | 'directoryUrl'>, names: readonly string[]): Promise<{ pem: string; held: HeldCertificate } | undefined> {
  const pem = await readIfThere(join(certificateFolder(settings.dir, settings.directoryUrl, names.map(normalName)), 'cert.pem'));
  return pem ? { pem, held: describeCertificate(pem) } : undefined;
}

async function accountKey(folder: string): Promise<Buffer> {
  const path = join(folder, 'account.key');
  const kept = await readIfThere(path);
  if (kept) return Buffer.from(kept);
  // Made once and kept before it is used: an account the CA knows is never lost to a crash.
  const key = await acme.crypto.createPrivateEcdsaKey();
  await writePrivate(path, key.toString());
  return key;
}

async function failures(folder: string): Promise<Record<string, number[]>> {
  return JSON.parse((await readIfThere(join(folder, 'failures.json'))) ?? '{}') as Record<string, number[]>;
}

/**
 * Makes sure a valid certificate for `names` (the first is its folder's name) is in the store;
 * asks the CA only when the held one does not serve.
 */
export async function ensureCertificate(settings: AcmeSettings, names: readonly string[]): Promise<CertificateResult> {
  if (names.length === 0) throw new CertError('bad-input', 'a certificate needs at least one name');
  let wanted: string[];
  try {
    wanted = [...new Set(names.map(normalName))];
  } catch (error) {
    throw new CertError('bad-input', (error as Error).message);
  }
  const now = settings.now?.() ?? new Date();
  const folder = directoryFolder(settings.dir, settings.directoryUrl);
  const certDir = certificateFolder(settings.dir, settings.directoryUrl, wanted);
  const paths = { certPath: join(certDir, 'cert.pem'), keyPath: join(certDir, 'key.pem') };
  const held = await heldCertificate(settings, wanted);
  const reason = whyIssue(held?.held, wanted, now);
  if (!reason) return { names: wanted, issued: false, reason: `held until ${held!.held.notAfter.toISOString()}`, certificate: held!.held, ...paths };

  await privateDir(settings.dir);
  await privateDir(folder);
  const failed = await failures(folder);
  for (const n of wanted) {
    const wait = retryAfter(failed[n] ?? [], now);
    if (wait) throw new CertError('backoff', `${n} failed validation 5 times within the hour: the CA is not asked again before ${wait.toISOString()}`);
  }
  settings.log?.(`${wanted.join(', ')}: ${reason}; asking ${settings.directoryUrl}`);
  // acme-client has one HTTP client per process: each order sets (or clears) its own trust.
  acme.axios.defaults.httpsAgent = settings.serverCa ? new Agent({ ca: settings.serverCa }) : undefined;
  // acmeSettings is acme-client's own addition to its axios instance, missing from axios's types.
  if (settings.retry) Object.assign((acme.axios.defaults as unknown as { acmeSettings: Record<string, number> }).acmeSettings, { retryMaxAttempts: settings.retry.attempts, retryDefaultDelay: settings.retry.delayS });
  const accountUrlPath = join(folder, 'account.url');
  const knownUrl = (await readIfThere(accountUrlPath))?.trim();
  const client = new acme.Client({ directoryUrl: settings.directoryUrl, accountKey: await accountKey(folder), ...(knownUrl ? { accountUrl: knownUrl } : {}), backoffAttempts: 10, backoffMin: 500, backoffMax: 5000 });
  try {
    // The directory first: a CA that does not answer is named as such, before anything is published.
    await client.getTermsOfServiceUrl();
  } catch (error) {
    throw new CertError('unreachable', `the ACME server at ${settings.directoryUrl} did not answer (${(error as Error).message})`, { cause: error });
  }
  if (!knownUrl) {
    // Registered once, its URL kept: later orders never register (or "update") the account again.
    try {
      await client.createAccount({ termsOfServiceAgreed: true, ...(settings.email ? { contact: [`mailto:${settings.email}`] } : {}) });
    } catch (error) {
      throw new CertError('failed', `the ACME server refused the account: ${(error as Error).message}`, { cause: error });
    }
    await writePrivate(accountUrlPath, `${client.getAccountUrl()}\n`);
  }
  const [key, csr] = await acme.crypto.createCsr({ commonName: wanted[0]!, altNames: wanted }, await acme.crypto.createPrivateEcdsaKey());
  // One name may be asked twice at once (a name and its wildcard): its TXT set holds every value.
  const published = new Map<string, Set<string>>();
  const challengeName = (authz: { identifier: { value: string } }) => `_acme-challenge.${authz.identifier.value.replace(/^\*\./, '')}`;
  let pem: string;
  try {
    pem = await client.auto({
      csr,
      termsOfServiceAgreed: true,
      challengePriority: ['dns-01'],
      // Our own check: the provider reads each record back from the zone's primary before it returns.
      skipChallengeVerification: true,
      challengeCreateFn: async (authz, _challenge, value) => {
        const name = challengeName(authz);
        const values = published.get(name) ?? new Set<string>();
        values.add(value);
        published.set(name, values);
        await settings.dns(name).set(name, 'TXT', [...values], 60);
      },
      challengeRemoveFn: async (authz, _challenge, value) => {
        const name = challengeName(authz);
        const values = published.get(name);
        values?.delete(value);
        if (values?.size) await settings.dns(name).set(name, 'TXT', [...values], 60);
        else await settings.dns(name).remove(name, 'TXT');
      },
    });
  } catch (error) {
    throw await classify(error, folder, failed, wanted, now);
  }
  const certificate = describeCertificate(pem);
  const missing = wanted.filter((n) => !certificate.names.includes(n));
  if (missing.length) throw new CertError('failed', `the CA's certificate does not name ${missing.join(', ')}`);
  await privateDir(certDir);
  // The key first: a chain on disk always has its key beside it.
  await writePrivate(paths.keyPath, key.toString());
  await writePrivate(paths.certPath, pem);
  settings.log?.(`${wanted.join(', ')}: issued, valid until ${certificate.notAfter.toISOString()}`);
  return { names: wanted, issued: true, reason, certificate, ...paths };
}

/** An error of the order as the operator must read it; failed validations are counted per name. */
async function classify(error: unknown, folder: string, failed: Record<string, number[]>, names: string[], now: Date): Promise<CertError> {
  if (error instanceof CertError) return error;
  if (error instanceof DnsError) return new CertError(error.code === 'refused' ? 'dns-refused' : 'failed', `publishing the DNS-01 challenge: ${error.message}`, { cause: error });
  const message = (error as Error).message ?? String(error);
  const code = (error as { code?: string }).code;
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'ETIMEDOUT' || code === 'ECONNRESET' || /ECONNREFUSED|socket hang up|timeout/i.test(message)) {
    return new CertError('unreachable', `the ACME server did not answer (${message})`, { cause: error });
  }
  if (/authorization|challenge|invalid|unauthorized|incorrect TXT/i.test(message)) {
    for (const n of names) failed[n] = [...(failed[n] ?? []).filter((t) => now.getTime() - t < 3_600_000), now.getTime()];
    await writePrivate(join(folder, 'failures.json'), JSON.stringify(failed, null, 2) + '\n');
    return new CertError('validation-failed', `the CA did not accept the DNS-01 validation of ${names.join(', ')}: ${message}`, { cause: error });
  }
  return new CertError('failed', `the ACME order failed: ${message}`, { cause: error });
}

/** Modes of the store's files, for checks: the folder 0700, keys 0600. */
export async function modeOf(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777;
}
