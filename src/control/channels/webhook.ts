/** A generic JSON webhook: the message as JSON, signed with HMAC-SHA256 when a secret is set. */
import { createHmac } from 'node:crypto';
import type { AlertSpec } from '../../fleet/schema.ts';
import { SEND_TIMEOUT_MS, type ChannelFactory } from './channel.ts';

export const webhook: ChannelFactory<Extract<AlertSpec, { type: 'webhook' }>> = (spec, secret) => {
  const host = new URL(spec.url).host;
  return {
    name: `webhook ${host}`,
    async send(message) {
      const body = JSON.stringify(message);
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (spec.secret) headers['x-lifeboat-signature'] = `sha256=${createHmac('sha256', await secret(spec.secret)).update(body).digest('hex')}`;
      const response = await fetch(spec.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(SEND_TIMEOUT_MS) });
      await response.arrayBuffer();
      if (!response.ok) throw new Error(`${host} answered HTTP ${response.status}`);
    },
  };
};
