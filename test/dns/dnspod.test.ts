/**
 * The DNSPod provider against a LOCAL server speaking the documented subset of Tencent Cloud
 * API 3.0 it uses (DescribeRecordList, CreateRecord, DeleteRecord, version 2021-03-23): one
 * POST endpoint, the action in X-TC-Action, answers in `{ Response: … }` with HTTP 200 and an
 * `Error` for failures (AuthFailure.*, ResourceNotFound.NoDataOfRecord for an empty list). The
 * server checks every request's TC3-HMAC-SHA256 signature; the signer itself is checked
 * against Tencent's published example in src/dns/signing.test.ts. DNSPod cannot be reached
 * from here: this proves the provider follows the documentation, not that DNSPod answers so.
 */
import { describe } from 'node:test';
import { Hono } from 'hono';
import { DnspodProvider } from '../../src/dns/dnspod.ts';
import { tc3Authorization } from '../../src/dns/signing.ts';
import { contractOnLocalApi } from './local-api.ts';

const ZONE = 'shop.example';
const SECRET_ID = 'AKIDlifeboatTestKey';
const SECRET_KEY = 'lifeboat-test-secret-key';

function fakeDnspod(): Hono {
  const app = new Hono();
  const records: Array<{ RecordId: number; Name: string; Type: string; Value: string; TTL: number; Line: string }> = [];
  let nextId = 1;
  const answer = (body: Record<string, unknown>) => ({ Response: { ...body, RequestId: `req-${nextId}` } });
  const fail = (Code: string, Message: string) => answer({ Error: { Code, Message } });
  app.post('/', async (c) => {
    const payload = await c.req.text();
    const auth = c.req.header('authorization') ?? '';
    const id = /Credential=([^/]+)\//.exec(auth)?.[1];
    if (id !== SECRET_ID) return c.json(fail('AuthFailure.SecretIdNotFound', 'The SecretId is not found'));
    const timestamp = Number(c.req.header('x-tc-timestamp'));
    const expected = tc3Authorization({ secretId: SECRET_ID, secretKey: SECRET_KEY, service: 'dnspod', host: c.req.header('host') ?? '', payload, timestamp, contentType: c.req.header('content-type') ?? '' });
    if (auth !== expected) return c.json(fail('AuthFailure.SignatureFailure', 'The provided credentials could not be validated'));
    if (c.req.header('x-tc-version') !== '2021-03-23') return c.json(fail('InvalidParameterValue', 'version'));
    const p = JSON.parse(payload) as Record<string, string | number>;
    if (p.Domain !== ZONE) return c.json(fail('InvalidParameterValue.DomainNotExists', 'The domain does not exist'));
    switch (c.req.header('x-tc-action')) {
      case 'DescribeRecordList': {
        const found = records.filter((r) => (!p.Subdomain || r.Name === p.Subdomain) && (!p.RecordType || r.Type === p.RecordType));
        return c.json(found.length ? answer({ RecordCountInfo: { TotalCount: found.length }, RecordList: found }) : fail('ResourceNotFound.NoDataOfRecord', 'No records'));
      }
      case 'CreateRecord': {
        // CNAME targets are kept fully qualified, with their dot.
        const value = p.RecordType === 'CNAME' ? `${String(p.Value)}.` : String(p.Value);
        records.push({ RecordId: nextId, Name: String(p.SubDomain), Type: String(p.RecordType), Value: value, TTL: Number(p.TTL ?? 600), Line: String(p.RecordLine) });
        return c.json(answer({ RecordId: nextId++ }));
      }
      case 'DeleteRecord': {
        const i = records.findIndex((r) => r.RecordId === Number(p.RecordId));
        if (i < 0) return c.json(fail('ResourceNotFound.NoDataOfRecord', 'No such record'));
        records.splice(i, 1);
        return c.json(answer({}));
      }
      default:
        return c.json(fail('InvalidAction', 'unknown action'));
    }
  });
  return app;
}

describe('DNSPod (a local server speaking the documented Tencent Cloud API 3.0 subset)', () => {
  contractOnLocalApi('dnspod', fakeDnspod, (endpoint) => ({
    provider: new DnspodProvider({ secretId: SECRET_ID, secretKey: SECRET_KEY, zone: ZONE, endpoint }),
    zone: ZONE,
    wrongCredentials: new DnspodProvider({ secretId: SECRET_ID, secretKey: 'not-the-key', zone: ZONE, endpoint }),
    unreachable: new DnspodProvider({ secretId: SECRET_ID, secretKey: SECRET_KEY, zone: ZONE, endpoint: 'http://127.0.0.1:9', timeoutMs: 2000 }),
  }));
});
