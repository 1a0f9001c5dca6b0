import type { Channel } from '#lib/domain/channel.ts';
import { phoneContactKey } from '#lib/domain/contact.ts';
import type { InboundEvent, InboundMessage } from '#lib/domain/message.ts';
import type { TwilioMessagingPayload } from './schema.ts';

// Twilio's default English keywords (long codes, toll-free): Twilio answers them itself and a
// keyword is not a question, so we record the message and never acknowledge it.
const KEYWORDS = new Set([
  'STOP',
  'STOPALL',
  'UNSUBSCRIBE',
  'CANCEL',
  'END',
  'QUIT',
  'REVOKE',
  'OPTOUT',
  'START',
  'UNSTOP',
  'HELP',
  'INFO',
]);

// InboundMessageSchema caps contactName; a display name is never worth rejecting a message.
const MAX_NAME = 200;

function channelOf(payload: TwilioMessagingPayload): Channel {
  if (/^whatsapp:/i.test(payload.From)) return 'whatsapp';
  return payload.media.length > 0 ? 'mms' : 'sms';
}

function noAckReasonOf(payload: TwilioMessagingPayload): string | undefined {
  // Set only with Advanced Opt-Out, which also matches the service's custom keywords.
  if (payload.OptOutType) return `keyword:${payload.OptOutType.toLowerCase()}`;
  const word = payload.Body.trim().toUpperCase();
  return KEYWORDS.has(word) ? `keyword:${word.toLowerCase()}` : undefined;
}

/** Turns one validated inbound messaging webhook into the normalized message event. */
export function normalizeTwilioMessage(payload: TwilioMessagingPayload): InboundEvent[] {
  const message: InboundMessage = {
    provider: 'twilio',
    providerMessageId: payload.MessageSid,
    channel: channelOf(payload),
    kind: 'message',
    contactKey: phoneContactKey(payload.From),
    from: payload.From,
    to: payload.To,
    text: payload.Body,
    media: payload.media.map(({ url, contentType }) => ({ url, contentType })),
  };
  const name = payload.ProfileName?.trim();
  // Never cut a surrogate pair in half.
  if (name) message.contactName = name.slice(0, MAX_NAME).replace(/[\uD800-\uDBFF]$/, '');
  const noAckReason = noAckReasonOf(payload);
  if (noAckReason) message.noAckReason = noAckReason;
  return [{ type: 'message', message }];
}
