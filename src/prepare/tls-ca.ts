/**
 * The fleet's private certificate authority, on the operator's machine (fleet `tls.caDir`):
 * created once by `prepare` (an EC P-256 key that never leaves the folder, a self-signed
 * certificate valid ten years), then used to sign each machine's request. The machines make
 * their own keys; only their certificate requests travel. openssl does the cryptography
 * (Node can read certificates, not make them), and Node's X509Certificate reads the results.
 */
import { execFile } from 'node:child_process';
import { X509Certificate, randomBytes } from 'node:crypto';
import { existsSync, lstatSync } from 'node:fs';
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ActionError } from '../actions/action.ts';
import type { Fleet } from '../fleet/schema.ts';
import { caCertPath, caKeyPath, forgetCaCache, issuedPath } from '../remote/tls.ts';

const run = promisify(execFile);
const CA_DAYS = 3650;

async function openssl(args: string[]): Promise<string> {
  try {
    return (await run('openssl', args, { timeout: 30_000, maxBuffer: 1 << 20 })).stdout;
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new ActionError('apply-failed', `openssl ${args[0]} failed: ${(e.stderr ?? e.message).trim().split('\n').slice(-3).join(' ')}`);
  }
}

/** The CA folder exists, is a real folder and is private (0700); a folder others can read is refused. */
async function privateFolder(dir: string): Promise<void> {
  if (!existsSync(dir)) await mkdir(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  if (!st.isDirectory()) throw new ActionError('precondition', `${dir} (fleet tls.caDir) is not a folder`);
  if (typeof process.getuid === 'function' && st.uid !== process.getuid()) {
    throw new ActionError('precondition', `${dir} (fleet tls.caDir) belongs to another user (uid ${st.uid}): the CA's key must be the operator's alone`);
  }
  // mkdir's mode is filtered by the umask, and an existing folder keeps its own.
  await chmod(dir, 0o700);
}

export interface Ca {
  certPem: string;
  cert: X509Certificate;
}

export async function readCa(fleet: Fleet): Promise<Ca | undefined> {
  if (!existsSync(caCertPath(fleet)) || !existsSync(caKeyPath(fleet))) return undefined;
  const certPem = await readFile(caCertPath(fleet), 'utf8');
  return { certPem, cert: new X509Certificate(certPem) };
}

/** The fleet's CA, created when there is none (or when it expires within a year). */
export async function ensureCa(fleet: Fleet, log: (line: string) => void = () => undefined): Promise<Ca> {
  const found = await readCa(fleet);
  if (found && Date.parse(found.cert.validTo) - Date.now() > 365 * 86_400_000) return found;
  const dir = fleet.tls.caDir;
  await privateFolder(dir);
  await privateFolder(join(dir, 'issued'));
  const stamp = randomBytes(4).toString('hex');
  const key = join(dir, `ca.key.${stamp}`);
  const cert = join(dir, `ca.pem.${stamp}`);
  await openssl([
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', String(CA_DAYS),
    '-subj', `/CN=lifeboat CA of ${fleet.name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  await chmod(key, 0o600);
  await rename(key, caKeyPath(fleet));
  await rename(cert, caCertPath(fleet));
  // Certificates of the old CA no longer count as issued: prepare issues them again.
  await rm(join(dir, 'issued'), { recursive: true, force: true });
  await privateFolder(join(dir, 'issued'));
  forgetCaCache();
  log(`created the fleet's CA in ${dir}`);
  return (await readCa(fleet))!;
}

export interface CertificateNames {
  dns: string[];
  ips: string[];
}

/** Signs a machine's certificate request for `names`, valid `days`; returns the certificate. */
export async function signRequest(fleet: Fleet, csrPem: string, names: CertificateNames, days: number): Promise<string> {
  const dir = fleet.tls.caDir;
  const stamp = randomBytes(6).toString('hex');
  const csr = join(dir, `req.${stamp}.pem`);
  const ext = join(dir, `ext.${stamp}.cnf`);
  const san = [...names.dns.map((d) => `DNS:${d}`), ...names.ips.map((ip) => `IP:${ip}`)].join(',');
  try {
    await writeFile(csr, csrPem, { mode: 0o600 });
    await writeFile(ext, `subjectAltName=${san}\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\n`, { mode: 0o600 });
    return await openssl([
      'x509', '-req', '-in', csr, '-CA', caCertPath(fleet), '-CAkey', caKeyPath(fleet), '-set_serial', `0x${randomBytes(16).toString('hex')}`,
      '-days', String(days), '-sha256', '-extfile', ext,
    ]);
  } finally {
    await rm(csr, { force: true });
    await rm(ext, { force: true });
  }
}

/** Records that `machine` holds `certPem`: from now on lifeboat reaches it only inside TLS. */
export async function recordIssued(fleet: Fleet, machine: string, certPem: string): Promise<void> {
  const path = issuedPath(fleet, machine);
  const temp = `${path}.${randomBytes(4).toString('hex')}`;
  await writeFile(temp, certPem, { mode: 0o600 });
  await rename(temp, path);
}

/** Why `certPem` is not good for `names` under `ca` (or undefined when it is). */
export function certificateProblem(certPem: string | undefined, ca: Ca, names: CertificateNames, renewBeforeMs: number): string | undefined {
  if (!certPem) return 'no certificate';
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch {
    return 'the certificate cannot be read';
  }
  if (!cert.checkIssued(ca.cert) || !cert.verify(ca.cert.publicKey)) return 'the certificate is not from the fleet\'s CA';
  const san = cert.subjectAltName ?? '';
  const missing = [...names.dns.map((d) => `DNS:${d}`), ...names.ips.map((ip) => `IP Address:${ip}`)].filter((n) => !san.split(', ').includes(n));
  if (missing.length) return `the certificate does not name ${missing.join(', ')}`;
  const left = Date.parse(cert.validTo) - Date.now();
  if (left < renewBeforeMs) return left <= 0 ? 'the certificate expired' : `the certificate expires on ${cert.validTo}`;
  return undefined;
}
