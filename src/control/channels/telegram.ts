/** Telegram Bot API: `POST {apiBase}/bot<token>/sendMessage {chat_id, text}` → `{ok: true}`. */
import type { AlertSpec } from '../../fleet/schema.ts';
import { plainText, postJson, type ChannelFactory } from './channel.ts';

export const telegram: ChannelFactory<Extract<AlertSpec, { type: 'telegram' }>> = (spec, secret) => ({
  name: `telegram chat ${spec.chatId}`,
  async send(message) {
    const token = (await secret(spec.token)).trim();
    const url = `${spec.apiBase.replace(/\/$/, '')}/bot${encodeURIComponent(token)}/sendMessage`;
    const answer = (await postJson(url, { chat_id: spec.chatId, text: plainText(message), disable_web_page_preview: true }, 'telegram')) as { ok?: boolean; description?: string } | null;
    if (answer?.ok !== true) throw new Error(`telegram refused the message: ${answer?.description ?? 'no answer'}`);
  },
});
