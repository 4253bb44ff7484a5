/**
 * When a certificate is asked for, and when not: Let's Encrypt's limits respected by design.
 * - A valid certificate that covers every name and has more than the renewal margin left is
 *   used as it is: moving a domain to another machine never needs a new issuance.
 * - Failed validations are counted per name: at the fifth within an hour the name waits
 *   (Let's Encrypt's "5 failed validations per account, per hostname, per hour").
 * Pure: the store reads and writes what these functions decide on.
 */
import { X509Certificate } from 'node:crypto';

/** Renew this long before a certificate expires (30 days, as the issue asks and LE advises). */
export const RENEW_BEFORE_MS = 30 * 86_400_000;
export const FAILURES_PER_HOUR = 5;
const HOUR_MS = 3_600_000;

export interface HeldCertificate {
  names: string[];
  notAfter: Date;
  notBefore: Date;
  issuer: string;
}

/** The names (DNS subject alternative names) and validity of a PEM certificate (the first of a chain). */
export function describeCertificate(pem: string): HeldCertificate {
  const cert = new X509Certificate(pem);
  const names = (cert.subjectAltName ?? '').split(',').map((s) => s.trim()).filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4).toLowerCase());
  return { names: names.sort(), notAfter: new Date(cert.validTo), notBefore: new Date(cert.validFrom), issuer: cert.issuer.replace(/\n/g, ', ') };
}

/** Why a new certificate is needed for `names`, or undefined when the held one serves. */
export function whyIssue(held: HeldCertificate | undefined, names: readonly string[], now: Date, renewBeforeMs = RENEW_BEFORE_MS): string | undefined {
  if (!held) return 'no certificate yet';
  const missing = names.filter((n) => !held.names.includes(n.toLowerCase()));
  if (missing.length) return `the certificate does not cover ${missing.join(', ')}`;
  if (held.notBefore.getTime() > now.getTime()) return 'the certificate is not valid yet';
  const left = held.notAfter.getTime() - now.getTime();
  if (left <= 0) return 'the certificate has expired';
  if (left <= renewBeforeMs) return `the certificate expires in ${Math.ceil(left / 86_400_000)} day(s)`;
  return undefined;
}

/** Failed validations of one name within the last hour: when the next attempt may be made, if it must wait. */
export function retryAfter(failures: readonly number[], now: Date): Date | undefined {
  const recent = failures.filter((t) => now.getTime() - t < HOUR_MS).sort((a, b) => a - b);
  if (recent.length < FAILURES_PER_HOUR) return undefined;
  return new Date(recent[recent.length - FAILURES_PER_HOUR]! + HOUR_MS);
}
