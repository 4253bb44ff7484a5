/**
 * A Feishu / Lark custom bot (飞书自定义机器人): `POST <webhook>` with `{timestamp, sign,
 * msg_type: 'text', content: {text}}` → `{code: 0}`. With a signing secret, `sign` is
 * base64(HMAC-SHA256(key = `<seconds>\n<secret>`, message = empty)).
 */
import { createHmac } from 'node:crypto';
import type { AlertSpec } from '../../fleet/schema.ts';
import { plainText, postJson, secretUrl, type ChannelFactory } from './channel.ts';

export function feishuSign(timestampS: number, secret: string): string {
  return createHmac('sha256', `${timestampS}\n${secret}`).update('').digest('base64');
}

export const feishu: ChannelFactory<Extract<AlertSpec, { type: 'feishu' }>> = (spec, secret) => ({
  name: 'feishu bot',
  async send(message) {
    const url = await secretUrl(secret, spec.webhook, 'feishu');
    const body: Record<string, unknown> = { msg_type: 'text', content: { text: plainText(message) } };
    if (spec.secret) {
      const timestamp = Math.floor(Date.now() / 1000);
      body.timestamp = String(timestamp);
      body.sign = feishuSign(timestamp, (await secret(spec.secret)).trim());
    }
    const answer = (await postJson(url.toString(), body, 'feishu')) as { code?: number; msg?: string; StatusCode?: number } | null;
    const code = answer?.code ?? answer?.StatusCode;
    if (code !== 0) throw new Error(`feishu refused the message: ${code ?? '?'} ${answer?.msg ?? ''}`.trim());
  },
});
