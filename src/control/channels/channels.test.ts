/**
 * One contract for every alert channel, each against a local server speaking the documented
 * subset of its service's API (the real services cannot be reached from here): the message
 * arrives, in the service's format, signed as the service checks it; a refusal by the
 * service is an error naming it. SMTP runs against a real SMTP server (the smtp-server
 * package) on loopback.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { SMTPServer } from 'smtp-server';
import type { AlertSpec } from '../../fleet/schema.ts';
import type { AlertMessage } from './channel.ts';
import { dingtalkSign } from './dingtalk.ts';
import { feishuSign } from './feishu.ts';
import { channelFor } from './index.ts';

const message: AlertMessage = { key: 'k', severity: 'critical', title: 'shop: core is down', text: 'Recovery started: lifeboat recover primary-down --failed core', fleet: 'shop', at: '2026-11-29T00:00:00.000Z' };
const SECRETS: Record<string, string> = {};
const secret = async (ref: string) => {
  const value = SECRETS[ref];
  if (value === undefined) throw new Error(`no secret ${ref}`);
  return value;
};

interface Received { path: string; query: URLSearchParams; body: Record<string, unknown>; headers: IncomingMessage['headers'] }
/** What the stand-in answers: `ok` the service's success, `refuse` its error body. */
let mode: 'ok' | 'refuse' = 'ok';
const received: Received[] = [];
let base = '';

/** The documented subset of each service: its path, its checks, its answers. */
function answer(r: Received, res: ServerResponse): unknown {
  const json = (status: number, value: unknown): void => { res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(value)); };
  if (r.path.startsWith('/bot')) {
    if (r.path !== '/botT0KEN/sendMessage' || r.body.chat_id !== '-100200' || typeof r.body.text !== 'string') return json(400, { ok: false, description: 'Bad Request: chat not found' });
    return mode === 'ok' ? json(200, { ok: true, result: { message_id: 1 } }) : json(200, { ok: false, description: 'Forbidden: bot was blocked' });
  }
  if (r.path === '/robot/send') {
    const ts = Number(r.query.get('timestamp'));
    const signed = r.query.get('access_token') === 'DT' && Math.abs(Date.now() - ts) < 3_600_000 && r.query.get('sign') === dingtalkSign(ts, 'SECdt');
    if (!signed) return json(200, { errcode: 310000, errmsg: 'sign not match' });
    if ((r.body.text as { content?: string } | undefined)?.content === undefined || r.body.msgtype !== 'text') return json(200, { errcode: 40035, errmsg: 'missing parameter' });
    return json(200, mode === 'ok' ? { errcode: 0, errmsg: 'ok' } : { errcode: 130101, errmsg: 'send too fast' });
  }
  if (r.path === '/cgi-bin/webhook/send') {
    if (r.query.get('key') !== 'WK') return json(200, { errcode: 93000, errmsg: 'invalid webhook url' });
    if (r.body.msgtype !== 'text') return json(200, { errcode: 40008, errmsg: 'invalid message type' });
    return json(200, mode === 'ok' ? { errcode: 0, errmsg: 'ok' } : { errcode: 45009, errmsg: 'api freq out of limit' });
  }
  if (r.path === '/open-apis/bot/v2/hook/FS') {
    const ts = Number(r.body.timestamp);
    if (r.body.sign !== feishuSign(ts, 'fs-secret') || Math.abs(Date.now() / 1000 - ts) > 3600) return json(200, { code: 19021, msg: 'sign match fail or timestamp is not within one hour from current time' });
    if (r.body.msg_type !== 'text') return json(200, { code: 9499, msg: 'Bad Request' });
    return json(200, mode === 'ok' ? { code: 0, msg: 'success', data: {} } : { code: 11232, msg: 'frequency limited' });
  }
  if (r.path === '/hook') {
    const ok = r.headers['x-lifeboat-signature'] === `sha256=${createHmac('sha256', 'wh').update(JSON.stringify(r.body)).digest('hex')}`;
    return res.writeHead(ok && mode === 'ok' ? 204 : 401).end();
  }
  json(404, {});
}

const http = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const url = new URL(req.url ?? '/', 'http://x');
    const r: Received = { path: url.pathname, query: url.searchParams, body: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>, headers: req.headers };
    received.push(r);
    answer(r, res);
  });
});

const mails: Array<{ from: string; to: string[]; data: string; user?: string }> = [];
const smtp = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  allowInsecureAuth: true,
  onAuth(auth, _session, callback) {
    if (auth.username === 'alerts' && auth.password === 'mail-pw') return callback(null, { user: 'alerts' });
    callback(new Error('bad credentials'));
  },
  onData(stream, session, callback) {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      if (mode === 'refuse') return callback(Object.assign(new Error('mailbox full'), { responseCode: 552 }));
      mails.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), data: Buffer.concat(chunks).toString('utf8'), ...(session.user ? { user: String(session.user) } : {}) });
      callback();
    });
  },
});
let smtpPort = 0;

before(async () => {
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  smtpPort = (smtp.server.address() as AddressInfo).port;
  Object.assign(SECRETS, {
    'env:TG': 'T0KEN', 'env:DT_URL': `${base}/robot/send?access_token=DT`, 'env:DT_SECRET': 'SECdt',
    'env:WC_URL': `${base}/cgi-bin/webhook/send?key=WK`, 'env:FS_URL': `${base}/open-apis/bot/v2/hook/FS`, 'env:FS_SECRET': 'fs-secret',
    'env:WH': 'wh', 'env:MAIL_PW': 'mail-pw',
  });
});
after(async () => {
  http.close();
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
});

const specs = (): AlertSpec[] => [
  { type: 'webhook', url: `${base}/hook`, secret: 'env:WH' },
  { type: 'telegram', token: 'env:TG', chatId: '-100200', apiBase: base },
  { type: 'dingtalk', webhook: 'env:DT_URL', secret: 'env:DT_SECRET' },
  { type: 'wecom', webhook: 'env:WC_URL' },
  { type: 'feishu', webhook: 'env:FS_URL', secret: 'env:FS_SECRET' },
  { type: 'email', host: '127.0.0.1', port: smtpPort, secure: false, user: 'alerts', password: 'env:MAIL_PW', from: 'lifeboat@example.com', to: ['ops@example.com'] },
];

describe('every alert channel, against its service', () => {
  for (const type of ['webhook', 'telegram', 'dingtalk', 'wecom', 'feishu', 'email'] as const) {
    test(`${type}: delivered in the service's format and signature; a refusal is an error`, async () => {
      const spec = specs().find((s) => s.type === type)!;
      const channel = channelFor(spec, secret);
      mode = 'ok';
      const before = received.length + mails.length;
      await channel.send(message);
      assert.equal(received.length + mails.length, before + 1, 'one request reached the service');
      if (type === 'email') {
        const mail = mails.at(-1)!;
        assert.deepEqual([mail.from, mail.to, mail.user], ['lifeboat@example.com', ['ops@example.com'], 'alerts']);
        assert.match(mail.data, /Subject: \[lifeboat critical\] shop: core is down/);
      } else if (type !== 'webhook') {
        assert.match(JSON.stringify(received.at(-1)!.body), /core is down/);
      }
      assert.doesNotMatch(channel.name, /T0KEN|DT|WK|FS\b|SEC/, 'the channel name carries no token');
      mode = 'refuse';
      await assert.rejects(channel.send(message), (error: Error) => error.message.length > 0 && !/T0KEN|SECdt|fs-secret|mail-pw/.test(error.message));
    });
  }
});
