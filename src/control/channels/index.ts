/** The one registry of alert channels: a fleet's `watch.alerts` entry → its channel. */
import type { AlertSpec } from '../../fleet/schema.ts';
import type { AlertChannel, Secret } from './channel.ts';
import { dingtalk } from './dingtalk.ts';
import { email } from './email.ts';
import { feishu } from './feishu.ts';
import { telegram } from './telegram.ts';
import { webhook } from './webhook.ts';
import { wecom } from './wecom.ts';

export function channelFor(spec: AlertSpec, secret: Secret): AlertChannel {
  switch (spec.type) {
    case 'webhook': return webhook(spec, secret);
    case 'telegram': return telegram(spec, secret);
    case 'dingtalk': return dingtalk(spec, secret);
    case 'wecom': return wecom(spec, secret);
    case 'feishu': return feishu(spec, secret);
    case 'email': return email(spec, secret);
  }
}

export type { AlertChannel, AlertMessage } from './channel.ts';
