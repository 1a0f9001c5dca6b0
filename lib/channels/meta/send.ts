// The Messenger, Instagram and WhatsApp Cloud senders: each one's request body and our send tag.
import { phoneNumberOf } from '#lib/domain/contact.ts';
import type { ChannelSender, OutboundText } from '#lib/ports/channel-sender.ts';
import { SwitchboardError } from '#lib/ports/errors.ts';
import { isBusinessScopedUserId } from './schema-whatsapp.ts';
import { createGraphSender, type MetaSenderOptions } from './send-graph.ts';

export { DEFAULT_GRAPH_BASE_URL, DEFAULT_GRAPH_VERSION, type MetaSenderOptions } from './send-graph.ts';
export { isOutsideWindow, isRetryableFailure } from './send-graph-errors.ts';

/**
 * Our id of a message as a send carries it (Messenger's and Instagram's `metadata`, at most 1,000
 * characters; WhatsApp's `biz_opaque_callback_data`, at most 512, templates too) and Meta gives
 * it back on the echo or status of that message: `switchboard:` and the message id (some 40
 * characters). What lets a send whose answer was lost be found (docs/channels.md).
 */
export function sendTagOf(messageId: string): string {
  return `${SEND_TAG}${messageId}`;
}

/** The message id a send tag names (sendTagOf), or undefined for any other string. */
export function messageIdOfTag(tag: string | undefined): string | undefined {
  if (!tag?.startsWith(SEND_TAG)) return undefined;
  const id = tag.slice(SEND_TAG.length);
  // No longer than a message id is (64, OutboundEcho/DeliveryUpdate.ourMessageId): another app's
  // longer string would make a queued webhook's job unreadable, the customer's messages with it.
  return /^msg_[0-9a-z]{1,60}$/.test(id) ? id : undefined;
}

const SEND_TAG = 'switchboard:';

/**
 * Messenger Platform's message type: a reply inside the 24-hour window is a RESPONSE; a person's
 * reply after it (up to 7 days) is tagged HUMAN_AGENT, which Meta allows for people only, so
 * never for an automatic message, whatever the caller says.
 */
function messagingType(message: OutboundText): { messaging_type: string; tag?: string } {
  return message.humanAgent && !message.automatic
    ? { messaging_type: 'MESSAGE_TAG', tag: 'HUMAN_AGENT' }
    : { messaging_type: 'RESPONSE' };
}

function requireToken(token: string, what: string): void {
  // Fail at start-up, not on the first send.
  if (!token) throw new SwitchboardError('CONFIG_INVALID', `${what} access token is not configured`);
}

/** Messenger text through the Send API (`/me/messages`, Page token); at most 2,000 characters. */
export function createMessengerSender(options: MetaSenderOptions): ChannelSender {
  requireToken(options.accessToken, 'Messenger');
  return createGraphSender(
    options,
    'messenger',
    'Messenger Send API',
    'me/messages',
    (message) => ({
      recipient: { id: message.to },
      ...messagingType(message),
      message: { text: message.text, metadata: sendTagOf(message.idempotencyKey) },
    }),
    (json) => json.message_id,
  );
}

/**
 * Instagram text through the Messenger Platform Send API (`/me/messages`, the Page token of the
 * linked Page); Meta documents "1000 bytes or less" (of UTF-8), which also keeps it under 1,000
 * characters.
 */
export function createInstagramSender(options: MetaSenderOptions): ChannelSender {
  requireToken(options.accessToken, 'Instagram');
  return createGraphSender(
    options,
    'instagram',
    'Instagram Send API',
    'me/messages',
    (message) => ({
      recipient: { id: message.to },
      ...messagingType(message),
      message: { text: message.text, metadata: sendTagOf(message.idempotencyKey) },
    }),
    (json) => json.message_id,
  );
}

/**
 * WhatsApp text through the Cloud API (`/{phone-number-id}/messages`); a body of at most 4,096
 * characters. A message with a `template` goes as that template, its parameters as the body's.
 */
export function createWhatsAppCloudSender(
  options: MetaSenderOptions & { phoneNumberId: string },
): ChannelSender {
  requireToken(options.accessToken, 'WhatsApp');
  if (!/^\d{1,32}$/.test(options.phoneNumberId)) {
    throw new SwitchboardError('CONFIG_INVALID', 'WhatsApp phone number id is not configured');
  }
  return createGraphSender(
    options,
    'whatsapp',
    'WhatsApp Cloud API',
    `${options.phoneNumberId}/messages`,
    (message) => ({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      // Cloud API takes the number without `+` (or the wa_id); whatsapp:/+ prefixes are ours. A
      // user known by a business-scoped user id only goes as `recipient`, the whole id.
      ...(isBusinessScopedUserId(message.to)
        ? { recipient: message.to }
        : { to: phoneNumberOf(message.to).replace(/\D/g, '') }),
      ...(message.template
        ? {
            type: 'template',
            template: {
              name: message.template.name,
              language: { policy: 'deterministic', code: message.template.language ?? '' },
              components: [
                {
                  type: 'body',
                  parameters: message.template.parameters.map((text) => ({ type: 'text', text })),
                },
              ],
            },
          }
        : { type: 'text', text: { body: message.text, preview_url: false } }),
      biz_opaque_callback_data: sendTagOf(message.idempotencyKey),
    }),
    (json) => (json.messages as Array<{ id?: unknown }> | undefined)?.[0]?.id,
  );
}
