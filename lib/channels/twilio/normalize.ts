import type { Channel } from '#lib/domain/channel.ts';
import { phoneContactKey, phoneNumberOf } from '#lib/domain/contact.ts';
import { consentOf, type Keyword, keywordOf, markKeyword } from '#lib/domain/keywords.ts';
import type { InboundEvent, InboundMessage } from '#lib/domain/message.ts';
import type { TwilioMessagingPayload } from './schema.ts';

function keywordOfPayload(payload: TwilioMessagingPayload): Keyword | undefined {
  // Set only with Advanced Opt-Out, which also matches the service's own (e.g. Polish)
  // keywords, so Twilio's verdict wins over the body: STOP, START or HELP.
  const optOutType = payload.OptOutType?.trim().toUpperCase();
  if (optOutType) return { word: optOutType, consent: consentOf(optOutType) };
  // On SMS Twilio answers HELP / INFO itself, as it does STOP and START: none is a question
  // for us. Its keyword handling is SMS only: WhatsApp's words are ours to read (keywords.ts).
  return keywordOf(payload.Body, channelOf(payload) === 'whatsapp' ? 'whatsapp' : 'sms');
}

/** A number a reply can go to: Twilio gives long codes and toll-free numbers in E.164. */
const PHONE_NUMBER = /^\+\d{6,15}$/;

// InboundMessageSchema caps contactName; a display name is never worth rejecting a message.
const MAX_NAME = 200;

/**
 * What the customer wrote, or, for a location they shared on WhatsApp (an empty Body, the pin in
 * Latitude and Longitude), the pin as the Cloud API's reads: "📍 lat,long Label, Address".
 */
function textOf(payload: TwilioMessagingPayload): string {
  const { Body, Latitude, Longitude } = payload;
  if (Body.trim() || !Latitude || !Longitude) return Body;
  const [latitude, longitude] = [Number(Latitude), Number(Longitude)];
  if (!Number.isFinite(latitude) || !Number.isFinite(longitude)) return Body;
  const named = [payload.Label, payload.Address].map((part) => part?.trim()).filter(Boolean);
  return `📍 ${Latitude.trim()},${Longitude.trim()}${named.length > 0 ? ` ${named.join(', ')}` : ''}`;
}

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
    text: textOf(payload),
    media: payload.media.map(({ url, contentType }) => ({ url, contentType })),
  };
  const name = payload.ProfileName?.trim();
  // Never cut a surrogate pair in half.
  if (name) message.contactName = name.slice(0, MAX_NAME).replace(/[\uD800-\uDBFF]$/, '');
  const keyword = keywordOfPayload(payload);
  if (keyword) {
    markKeyword(message, keyword);
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
