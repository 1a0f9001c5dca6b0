import type { Channel } from '#lib/domain/channel.ts';
import { phoneContactKey, phoneNumberOf } from '#lib/domain/contact.ts';
import type { InboundEvent, InboundMessage } from '#lib/domain/message.ts';
import type { TwilioMessagingPayload } from './schema.ts';

// Twilio's default English keywords (long codes, toll-free): Twilio answers them itself and a
// keyword is not a question, so we record the message and never acknowledge it.
const OPT_OUT_KEYWORDS = new Set([
  'STOP',
  'STOPALL',
  'UNSUBSCRIBE',
  'CANCEL',
  'END',
  'QUIT',
  'REVOKE',
  'OPTOUT',
]);
const OPT_IN_KEYWORDS = new Set(['START', 'UNSTOP', 'YES']);
/** Twilio opts a number back in on YES too, but only one that had opted out says it as a keyword. */
const CONDITIONAL_OPT_IN = 'YES';
const HELP_KEYWORDS = new Set(['HELP', 'INFO']);

type Keyword = { word: string; consent?: InboundMessage['consent'] };

function consentOf(word: string): InboundMessage['consent'] {
  if (OPT_OUT_KEYWORDS.has(word)) return 'opt-out';
  if (OPT_IN_KEYWORDS.has(word)) return 'opt-in';
  return undefined;
}

function keywordOf(payload: TwilioMessagingPayload): Keyword | undefined {
  // Set only with Advanced Opt-Out, which also matches the service's own (e.g. Polish)
  // keywords, so Twilio's verdict wins over the body: STOP, START or HELP.
  const optOutType = payload.OptOutType?.trim().toUpperCase();
  if (optOutType) return { word: optOutType, consent: consentOf(optOutType) };
  // Twilio matches the whole body, case-insensitively: "stop please" is a message.
  const word = payload.Body.trim().toUpperCase();
  if (!OPT_OUT_KEYWORDS.has(word) && !OPT_IN_KEYWORDS.has(word) && !HELP_KEYWORDS.has(word)) return undefined;
  return { word, consent: consentOf(word) };
}

/** A number a reply can go to: Twilio gives long codes and toll-free numbers in E.164. */
const PHONE_NUMBER = /^\+\d{6,15}$/;

// InboundMessageSchema caps contactName; a display name is never worth rejecting a message.
const MAX_NAME = 200;

function channelOf(payload: TwilioMessagingPayload): Channel {
  if (/^whatsapp:/i.test(payload.From)) return 'whatsapp';
  return payload.media.length > 0 ? 'mms' : 'sms';
}

/**
 * Turns one validated inbound messaging webhook into the normalized message event. A keyword
 * (STOP, START, HELP and their synonyms, or Twilio's OptOutType) is recorded with
 * `noAckReason: 'keyword:<word>'`, and STOP / START also carry the consent they express; a
 * message from a short code or an alphanumeric sender with `'automated-sender'`.
 */
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
  const keyword = keywordOf(payload);
  if (keyword) {
    message.noAckReason = `keyword:${keyword.word.toLowerCase()}`;
    if (keyword.consent) message.consent = keyword.consent;
    if (keyword.word === CONDITIONAL_OPT_IN) message.optInOnlyIfOptedOut = true;
  } else if (!PHONE_NUMBER.test(phoneNumberOf(payload.From))) {
    // A short code ("12345") or an alphanumeric sender ID ("InfoBank"): an automated sender
    // that cannot take a reply (an ack would fail at Twilio, or reach nobody).
    message.noAckReason = 'automated-sender';
  } else if (phoneNumberOf(payload.From) === phoneNumberOf(payload.To)) {
    // Our own number writing to itself (a test, a loop): never answered.
    message.noAckReason = 'own-number';
  }
  return [{ type: 'message', message }];
}
