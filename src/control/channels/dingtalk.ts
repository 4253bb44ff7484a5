/**
 * A DingTalk group robot (钉钉自定义机器人): `POST <webhook>&timestamp=<ms>&sign=<s>` with
 * `{msgtype: 'text', text: {content}}` → `{errcode: 0}`. With a signing secret ("加签"), `s` is
 * base64(HMAC-SHA256(key = secret, message = `<ms>\n<secret>`)), URL-encoded.
 */
import { createHmac } from 'node:crypto';
import type { AlertSpec } from '../../fleet/schema.ts';
import { plainText, postJson, secretUrl, type ChannelFactory } from './channel.ts';

export function dingtalkSign(timestampMs: number, secret: string): string {
  return createHmac('sha256', secret).update(`${timestampMs}\n${secret}`).digest('base64');
}

export const dingtalk: ChannelFactory<Extract<AlertSpec, { type: 'dingtalk' }>> = (spec, secret) => ({
  name: 'dingtalk robot',
  async send(message) {
    const url = await secretUrl(secret, spec.webhook, 'dingtalk');
    if (spec.secret) {
      const timestamp = Date.now();
      url.searchParams.set('timestamp', String(timestamp));
      url.searchParams.set('sign', dingtalkSign(timestamp, (await secret(spec.secret)).trim()));
    }
    const answer = (await postJson(url.toString(), { msgtype: 'text', text: { content: plainText(message) } }, 'dingtalk')) as { errcode?: number; errmsg?: string } | null;
    if (answer?.errcode !== 0) throw new Error(`dingtalk refused the message: ${answer?.errcode ?? '?'} ${answer?.errmsg ?? ''}`.trim());
  },
});
