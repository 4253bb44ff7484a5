/** The contract every alert channel implements, and the message they all carry. */
import type { AlertSpec, SecretRef } from '../../fleet/schema.ts';

export interface AlertMessage {
  /** Messages with the same key are sent once (an incident, a run). */
  key: string;
  severity: 'info' | 'warning' | 'critical';
  title: string;
  text: string;
  fleet: string;
  at: string;
  /** Machine-readable details (scenario, run id, verdicts…). */
  data?: Record<string, unknown>;
}

export interface AlertChannel {
  /** For logs: the kind and where it goes, never a token. */
  readonly name: string;
  /** Resolves once the service accepted the message; throws with its answer otherwise. */
  send(message: AlertMessage): Promise<void>;
}

export type Secret = (ref: SecretRef) => Promise<string>;
export type ChannelFactory<S extends AlertSpec> = (spec: S, secret: Secret) => AlertChannel;

export const SEND_TIMEOUT_MS = 5000;

/** The text chat channels show: severity, title, body. */
export function plainText(m: AlertMessage): string {
  const mark = m.severity === 'critical' ? '[CRITICAL]' : m.severity === 'warning' ? '[WARNING]' : '[INFO]';
  return `${mark} ${m.title}\n${m.text}\n(${m.fleet}, ${m.at})`;
}

/** POSTs JSON, bounded; returns the parsed answer (or null when it is not JSON). */
export async function postJson(url: string, body: unknown, what: string): Promise<unknown> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${what} answered HTTP ${response.status}`);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

/** A webhook URL held in a secret, checked before use (the URL itself is never logged). */
export async function secretUrl(secret: Secret, ref: SecretRef, what: string): Promise<URL> {
  const text = (await secret(ref)).trim();
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`${what}: the secret ${ref} does not hold a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`${what}: the secret ${ref} does not hold an http(s) URL`);
  return url;
}
