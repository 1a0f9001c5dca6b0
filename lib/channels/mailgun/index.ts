import type { ProviderWebhook } from '#lib/channels/channel.ts';
import type { SaveAttachment } from '#lib/channels/email/normalize-mail.ts';
import { SwitchboardError } from '#lib/ports/errors.ts';
import { mailgunTokenBinding, normalizeMailgunRoute } from './normalize.ts';
import { type MailgunPayload, parseMailgunRoute } from './schema.ts';
import { verifyMailgunSignature } from './verify.ts';

export type { WebhookRequestWithBytes } from './form.ts';
export type { MailgunPayload } from './schema.ts';

export type MailgunChannelOptions = {
  /** Mailgun's HTTP webhook signing key (not the API key). */
  signingKey: string;
  now?: () => Date;
  saveAttachment: SaveAttachment;
  /** Our own addresses: mail from them is recorded, never acknowledged. */
  ourAddresses: string[];
};

export type MailgunChannel = { provider: 'mailgun'; webhook: ProviderWebhook<MailgunPayload> };

/** Mailgun inbound mail posted by a route's forward() action (parsed fields, not raw MIME). */
export function createMailgunChannel(options: MailgunChannelOptions): MailgunChannel {
  const { signingKey, now = () => new Date(), saveAttachment, ourAddresses } = options;
  // Fail at start-up, not on the first webhook.
  if (!signingKey) throw new SwitchboardError('CONFIG_INVALID', 'Mailgun signing key is required');
  return {
    provider: 'mailgun',
    webhook: {
      verify: (request) => verifyMailgunSignature(request, signingKey, now()),
      parse: parseMailgunRoute,
      normalize: (payload) => normalizeMailgunRoute(payload, { saveAttachment, ourAddresses }),
      // The signature can be replayed within the timestamp window: the token is bound to its mail.
      replayGuard: (payload) => ({ key: `mailgun:${payload.token}`, content: mailgunTokenBinding(payload) }),
    },
  };
}
