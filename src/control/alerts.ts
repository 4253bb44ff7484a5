/**
 * Alerts: one message per thing a person should know (an incident opened, a recovery started
 * or refused, a recovery ended with its time), sent to every channel of the fleet's
 * `watch.alerts` (channels/), deduplicated by key. A channel that fails is logged and tried
 * again with the next message; it never stops the daemon.
 */
import type { AlertSpec, SecretRef } from '../fleet/schema.ts';
import { channelFor, type AlertChannel, type AlertMessage } from './channels/index.ts';

export type { AlertChannel, AlertMessage } from './channels/index.ts';

export function alertChannels(specs: readonly AlertSpec[], secret: (ref: SecretRef) => Promise<string>): AlertChannel[] {
  return specs.map((spec) => channelFor(spec, secret));
}

export class Alerter {
  private readonly sent = new Set<string>();

  constructor(private readonly channels: readonly AlertChannel[], private readonly log: (line: string) => void) {}

  /** Sends `message` to every channel unless a message with its key was sent already. */
  async send(message: AlertMessage): Promise<void> {
    if (this.sent.has(message.key)) return;
    this.sent.add(message.key);
    await Promise.all(this.channels.map(async (channel) => {
      try {
        await channel.send(message);
      } catch (error) {
        this.log(`alert to ${channel.name} failed: ${(error as Error).message}`);
      }
    }));
  }
}
