/** The webhook channel against a local HTTP server: the JSON body and its HMAC signature. */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import { test } from 'node:test';
import { Alerter, alertChannels, type AlertMessage } from './alerts.ts';

const message: AlertMessage = { key: 'k1', severity: 'critical', title: 'shop: core is down', text: 'Recovery started', fleet: 'shop', at: '2026-11-29T00:00:00.000Z' };

test('a webhook gets each message once, signed with the shared secret; a failing endpoint is logged, not thrown', async () => {
  const received: Array<{ body: string; signature: string | undefined }> = [];
  let status = 200;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ body: Buffer.concat(chunks).toString('utf8'), signature: req.headers['x-lifeboat-signature'] as string | undefined });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
  const logged: string[] = [];
  try {
    const channels = alertChannels([{ type: 'webhook', url, secret: 'env:HOOK_SECRET' }], async (ref) => (ref === 'env:HOOK_SECRET' ? 's3cret' : ''));
    const alerter = new Alerter(channels, (line) => logged.push(line));
    await alerter.send(message);
    await alerter.send(message);
    assert.equal(received.length, 1, 'deduplicated by key');
    assert.deepEqual(JSON.parse(received[0]!.body), message);
    assert.equal(received[0]!.signature, `sha256=${createHmac('sha256', 's3cret').update(received[0]!.body).digest('hex')}`);
    status = 500;
    await alerter.send({ ...message, key: 'k2' });
    assert.match(logged[0]!, /alert to webhook 127\.0\.0\.1:\d+ failed: .*HTTP 500/);
  } finally {
    server.close();
  }
});
