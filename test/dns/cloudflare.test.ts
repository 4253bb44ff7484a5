/**
 * The Cloudflare provider against a LOCAL server speaking the documented subset of
 * Cloudflare's v4 API that the provider uses (List Zones, List/Create/Delete DNS Records,
 * Bearer tokens, the `{ success, errors, result }` envelope, 403 with code 10000 for a bad
 * token). Cloudflare itself cannot be reached from here: this proves the provider follows the
 * documentation as written, not that Cloudflare answers as documented.
 */
import { randomUUID } from 'node:crypto';
import { describe } from 'node:test';
import { Hono } from 'hono';
import { CloudflareProvider } from '../../src/dns/cloudflare.ts';
import { contractOnLocalApi } from './local-api.ts';

const ZONE = 'shop.example';
const TOKEN = 'test-token-with-dns-edit';

function fakeCloudflare(): Hono {
  const app = new Hono();
  const zoneId = randomUUID().replace(/-/g, '');
  const records: Array<{ id: string; type: string; name: string; content: string; ttl: number }> = [];
  app.use('*', async (c, next) => {
    if (c.req.header('authorization') !== `Bearer ${TOKEN}`) return c.json({ success: false, errors: [{ code: 10000, message: 'Authentication error' }], result: null }, 403);
    await next();
  });
  app.get('/client/v4/zones', (c) => c.json({ success: true, errors: [], result: c.req.query('name') === ZONE ? [{ id: zoneId, name: ZONE }] : [] }));
  app.get('/client/v4/zones/:zone/dns_records', (c) => {
    if (c.req.param('zone') !== zoneId) return c.json({ success: false, errors: [{ code: 7003, message: 'Could not route' }], result: null }, 404);
    const { type, name } = c.req.query();
    return c.json({ success: true, errors: [], result: records.filter((r) => (!type || r.type === type) && (!name || r.name === name)) });
  });
  app.post('/client/v4/zones/:zone/dns_records', async (c) => {
    const body = await c.req.json<{ type: string; name: string; content: string; ttl: number }>();
    // Cloudflare returns TXT contents quoted.
    const record = { id: randomUUID().replace(/-/g, ''), type: body.type, name: body.name, content: body.type === 'TXT' ? `"${body.content}"` : body.content, ttl: body.ttl };
    records.push(record);
    return c.json({ success: true, errors: [], result: record });
  });
  app.delete('/client/v4/zones/:zone/dns_records/:id', (c) => {
    const i = records.findIndex((r) => r.id === c.req.param('id'));
    if (i < 0) return c.json({ success: false, errors: [{ code: 81044, message: 'Record does not exist.' }], result: null }, 404);
    records.splice(i, 1);
    return c.json({ success: true, errors: [], result: { id: c.req.param('id') } });
  });
  return app;
}

describe('Cloudflare (a local server speaking its documented API subset)', () => {
  contractOnLocalApi('cloudflare', fakeCloudflare, (base) => ({
    provider: new CloudflareProvider({ token: TOKEN, zone: ZONE, apiBase: `${base}/client/v4` }),
    zone: ZONE,
    wrongCredentials: new CloudflareProvider({ token: 'revoked', zone: ZONE, apiBase: `${base}/client/v4` }),
    unreachable: new CloudflareProvider({ token: TOKEN, zone: ZONE, apiBase: 'http://127.0.0.1:9/client/v4', timeoutMs: 2000 }),
  }));
});
