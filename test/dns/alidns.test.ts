/**
 * The Alibaba Cloud DNS provider against a LOCAL server speaking the documented subset of
 * the Alidns 2015-01-09 OpenAPI it uses (DescribeSubDomainRecords, AddDomainRecord,
 * DeleteDomainRecord): RPC style, every parameter in the query string, the action in
 * x-acs-action, errors as `{ Code, Message }` with a 4xx status (InvalidAccessKeyId.NotFound,
 * SignatureDoesNotMatch, InvalidDomainName.NoExist). The server checks every request's
 * ACS3-HMAC-SHA256 signature; the signer itself is checked against Alibaba's published
 * example in src/dns/signing.test.ts. Alibaba Cloud cannot be reached from here: this proves
 * the provider follows the documentation, not that Alibaba answers so.
 */
import { describe } from 'node:test';
import { Hono } from 'hono';
import { AlidnsProvider } from '../../src/dns/alidns.ts';
import { acs3Headers } from '../../src/dns/signing.ts';
import { contractOnLocalApi } from './local-api.ts';

const ZONE = 'shop.example';
const KEY_ID = 'LTAIlifeboatTestKey';
const KEY_SECRET = 'lifeboat-test-access-key-secret';

function fakeAlidns(): Hono {
  const app = new Hono();
  const records: Array<{ RecordId: string; RR: string; Type: string; Value: string; TTL: number; DomainName: string }> = [];
  let nextId = 1000;
  app.post('/', async (c) => {
    const query = Object.fromEntries(new URL(c.req.url).searchParams);
    const auth = c.req.header('authorization') ?? '';
    if (/Credential=([^,]+),/.exec(auth)?.[1] !== KEY_ID) return c.json({ Code: 'InvalidAccessKeyId.NotFound', Message: 'Specified access key is not found.' }, 404);
    const expected = acs3Headers({
      accessKeyId: KEY_ID, accessKeySecret: KEY_SECRET, method: 'POST', host: c.req.header('host') ?? '', action: c.req.header('x-acs-action') ?? '',
      version: c.req.header('x-acs-version') ?? '', query, body: await c.req.text(), date: c.req.header('x-acs-date') ?? '', nonce: c.req.header('x-acs-signature-nonce') ?? '',
    }).authorization;
    if (auth !== expected) return c.json({ Code: 'SignatureDoesNotMatch', Message: 'The request signature does not conform to Aliyun standards.' }, 400);
    const domainOf = (name: string) => (name === ZONE || name.endsWith(`.${ZONE}`) ? ZONE : undefined);
    switch (c.req.header('x-acs-action')) {
      case 'DescribeSubDomainRecords': {
        if (!domainOf(query.SubDomain ?? '')) return c.json({ Code: 'InvalidDomainName.NoExist', Message: 'The specified domain name does not exist.' }, 400);
        const rr = query.SubDomain === ZONE ? '@' : query.SubDomain!.slice(0, -(ZONE.length + 1));
        const found = records.filter((r) => r.RR === rr && (!query.Type || r.Type === query.Type));
        return c.json({ TotalCount: found.length, PageSize: 500, PageNumber: 1, DomainRecords: { Record: found }, RequestId: `req-${nextId}` });
      }
      case 'AddDomainRecord': {
        if (query.DomainName !== ZONE) return c.json({ Code: 'InvalidDomainName.NoExist', Message: 'The specified domain name does not exist.' }, 400);
        const record = { RecordId: String(nextId++), RR: query.RR!, Type: query.Type!, Value: query.Value!, TTL: Number(query.TTL ?? 600), DomainName: ZONE };
        records.push(record);
        return c.json({ RecordId: record.RecordId, RequestId: `req-${nextId}` });
      }
      case 'DeleteDomainRecord': {
        const i = records.findIndex((r) => r.RecordId === query.RecordId);
        if (i < 0) return c.json({ Code: 'DomainRecordNotBelongToUser', Message: 'The DNS record does not exist.' }, 400);
        records.splice(i, 1);
        return c.json({ RecordId: query.RecordId, RequestId: `req-${nextId}` });
      }
      default:
        return c.json({ Code: 'InvalidAction.NotFound', Message: 'unknown action' }, 404);
    }
  });
  return app;
}

describe('Alibaba Cloud DNS (a local server speaking the documented Alidns OpenAPI subset)', () => {
  contractOnLocalApi('alidns', fakeAlidns, (endpoint) => ({
    provider: new AlidnsProvider({ accessKeyId: KEY_ID, accessKeySecret: KEY_SECRET, zone: ZONE, endpoint }),
    zone: ZONE,
    wrongCredentials: new AlidnsProvider({ accessKeyId: KEY_ID, accessKeySecret: 'not-the-secret', zone: ZONE, endpoint }),
    unreachable: new AlidnsProvider({ accessKeyId: KEY_ID, accessKeySecret: KEY_SECRET, zone: ZONE, endpoint: 'http://127.0.0.1:9', timeoutMs: 2000 }),
  }));
});
