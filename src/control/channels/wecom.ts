/** A WeCom group robot (企业微信群机器人): `POST <webhook>` `{msgtype: 'text', text: {content}}` → `{errcode: 0}`. */
import type { AlertSpec } from '../../fleet/schema.ts';
import { plainText, postJson, secretUrl, type ChannelFactory } from './channel.ts';

export const wecom: ChannelFactory<Extract<AlertSpec, { type: 'wecom' }>> = (spec, secret) => ({
  name: 'wecom robot',
  async send(message) {
    const url = await secretUrl(secret, spec.webhook, 'wecom');
    const answer = (await postJson(url.toString(), { msgtype: 'text', text: { content: plainText(message) } }, 'wecom')) as { errcode?: number; errmsg?: string } | null;
    if (answer?.errcode !== 0) throw new Error(`wecom refused the message: ${answer?.errcode ?? '?'} ${answer?.errmsg ?? ''}`.trim());
  },
});
