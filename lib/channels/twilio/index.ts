import type { ProviderWebhook } from '#lib/channels/channel.ts';
import type { ChannelSender } from '#lib/ports/channel-sender.ts';
import { SwitchboardError } from '#lib/ports/errors.ts';
import { normalizeTwilioMessage } from './normalize.ts';
import { parseTwilioMessaging, type TwilioMessagingPayload } from './schema.ts';
import { createTwilioSender } from './send.ts';
import { verifyTwilioSignature } from './verify.ts';

export type { TwilioMessagingPayload } from './schema.ts';
export { emptyTwiml, escapeXml, TWIML_CONTENT_TYPE } from './twiml.ts';

export type TwilioChannelOptions = {
  accountSid: string;
  authToken: string;
  apiBaseUrl?: string;
  fetch?: typeof globalThis.fetch;
};

export type TwilioChannel = {
  provider: 'twilio';
  messaging: ProviderWebhook<TwilioMessagingPayload>;
  sender: ChannelSender;
};

/** Twilio's inbound messaging webhook (SMS, MMS, WhatsApp) and its Messages API sender. */
export function createTwilioChannel(options: TwilioChannelOptions): TwilioChannel {
  const { accountSid, authToken, apiBaseUrl, fetch } = options;
  // Fail at start-up, not on the first webhook.
  if (!accountSid || !authToken) {
    throw new SwitchboardError('CONFIG_INVALID', 'Twilio accountSid and authToken are required');
  }
  return {
    provider: 'twilio',
    messaging: {
      verify: (request) => verifyTwilioSignature(request, authToken),
      parse: (request) => parseTwilioMessaging(request.rawBody),
      normalize: normalizeTwilioMessage,
    },
    sender: createTwilioSender({ accountSid, authToken, apiBaseUrl, fetch }),
  };
}
