/** E-mail over SMTP with nodemailer: STARTTLS when offered (TLS from the start with `secure`). */
import nodemailer from 'nodemailer';
import type { AlertSpec } from '../../fleet/schema.ts';
import { SEND_TIMEOUT_MS, type ChannelFactory } from './channel.ts';

export const email: ChannelFactory<Extract<AlertSpec, { type: 'email' }>> = (spec, secret) => ({
  name: `email via ${spec.host}:${spec.port}`,
  async send(message) {
    const transport = nodemailer.createTransport({
      host: spec.host,
      port: spec.port,
      secure: spec.secure,
      connectionTimeout: SEND_TIMEOUT_MS,
      greetingTimeout: SEND_TIMEOUT_MS,
      socketTimeout: SEND_TIMEOUT_MS,
      ...(spec.user ? { auth: { user: spec.user, pass: spec.password ? await secret(spec.password) : '' } } : {}),
    });
    try {
      await transport.sendMail({
        from: spec.from,
        to: spec.to,
        subject: `[lifeboat ${message.severity}] ${message.title}`,
        text: `${message.text}\n\nfleet ${message.fleet}, ${message.at}\n${message.data ? JSON.stringify(message.data, null, 2) : ''}`,
      });
    } finally {
      transport.close();
    }
  },
});
