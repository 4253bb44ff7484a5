/**
 * The request signatures of the two Chinese clouds' APIs, each as its vendor documents it
 * (and unit-tested against the vendor's own published worked example, signing.test.ts):
 * - Tencent Cloud API 3.0, TC3-HMAC-SHA256 (cloud.tencent.com/document/api/1427/56189,
 *   "Signature v3"): a key derived from the secret, the date and the service;
 * - Alibaba Cloud OpenAPI V3, ACS3-HMAC-SHA256 (help.aliyun.com, "V3 request structure and
 *   signature"): the secret signs the hashed canonical request directly.
 */
import { createHash, createHmac } from 'node:crypto';

const sha256Hex = (data: string): string => createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();

export interface Tc3Request {
  secretId: string;
  secretKey: string;
  /** The product's service name, the first label of its host: `dnspod`, `cvm`. */
  service: string;
  host: string;
  /** The JSON body exactly as sent. */
  payload: string;
  /** Unix seconds (X-TC-Timestamp). */
  timestamp: number;
  contentType?: string;
}

/** The `Authorization` header of a TC3-HMAC-SHA256 POST request (signed headers: content-type;host). */
export function tc3Authorization(r: Tc3Request): string {
  const contentType = r.contentType ?? 'application/json; charset=utf-8';
  const signedHeaders = 'content-type;host';
  const canonical = ['POST', '/', '', `content-type:${contentType}\nhost:${r.host}\n`, signedHeaders, sha256Hex(r.payload)].join('\n');
  // The date of the timestamp in UTC: a local time zone would sign the wrong day after midnight.
  const date = new Date(r.timestamp * 1000).toISOString().slice(0, 10);
  const scope = `${date}/${r.service}/tc3_request`;
  const toSign = ['TC3-HMAC-SHA256', String(r.timestamp), scope, sha256Hex(canonical)].join('\n');
  const signing = hmac(hmac(hmac(`TC3${r.secretKey}`, date), r.service), 'tc3_request');
  const signature = createHmac('sha256', signing).update(toSign, 'utf8').digest('hex');
  return `TC3-HMAC-SHA256 Credential=${r.secretId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
}

/** RFC 3986 percent-encoding as ACS3 wants it: `~` kept, everything outside the unreserved set encoded. */
export function acsEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export interface Acs3Request {
  accessKeyId: string;
  accessKeySecret: string;
  method: 'GET' | 'POST';
  host: string;
  action: string;
  version: string;
  /** Query parameters (RPC-style APIs put every parameter here). */
  query: Record<string, string>;
  /** The body exactly as sent ('' for none). */
  body: string;
  /** ISO 8601 UTC without milliseconds: `2023-10-26T10:22:32Z`. */
  date: string;
  nonce: string;
}

/** The canonical query string: keys sorted, keys and values encoded, `k=v` joined by `&`. */
export function acsQuery(query: Record<string, string>): string {
  return Object.keys(query).sort().map((k) => `${acsEncode(k)}=${acsEncode(query[k]!)}`).join('&');
}

/** Every header an ACS3 request sends and signs, `authorization` included. */
export function acs3Headers(r: Acs3Request): Record<string, string> {
  const headers: Record<string, string> = {
    host: r.host,
    'x-acs-action': r.action,
    'x-acs-content-sha256': sha256Hex(r.body),
    'x-acs-date': r.date,
    'x-acs-signature-nonce': r.nonce,
    'x-acs-version': r.version,
  };
  const names = Object.keys(headers).sort();
  const canonical = [r.method, '/', acsQuery(r.query), names.map((n) => `${n}:${headers[n]!.trim()}\n`).join(''), names.join(';'), headers['x-acs-content-sha256']].join('\n');
  const signature = createHmac('sha256', r.accessKeySecret).update(`ACS3-HMAC-SHA256\n${sha256Hex(canonical)}`, 'utf8').digest('hex');
  return { ...headers, authorization: `ACS3-HMAC-SHA256 Credential=${r.accessKeyId},SignedHeaders=${names.join(';')},Signature=${signature}` };
}
