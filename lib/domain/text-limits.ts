import type { Channel } from './channel.ts';

/**
 * The longest text one send may carry. `chars` counts UTF-16 code units (a JavaScript string's
 * length: an emoji counts two), never fewer than the providers count; `bytes` counts UTF-8.
 */
export type TextLimit = { chars?: number; bytes?: number };

/**
 * What each provider takes in one message, from their docs: Twilio's Body 1,600 characters on
 * every channel (SMS, MMS, WhatsApp: error 21617 above it), the Messenger Send API 2,000
 * characters, Instagram 1,000 bytes of UTF-8 (and under 1,000 characters), the WhatsApp Cloud API's text body 4,096
 * characters. Email has no limit that a reply could reach (the API's own 4,000 characters).
 * A text over its limit is refused, never cut: a cut drops the signature, and the message
 * stored would not be the one the customer got.
 */
export function textLimitOf(provider: string, channel: Channel): TextLimit {
  if (provider === 'twilio') return { chars: 1600 };
  if (channel === 'messenger') return { chars: 2000 };
  // Meta's pages say both "1000 bytes or less" and "less than 1000 characters".
  if (channel === 'instagram') return { chars: 999, bytes: 1000 };
  if (channel === 'whatsapp') return { chars: 4096 };
  return {};
}

const utf8 = new TextEncoder();

/** How much of each measure a text takes. */
export function textSize(text: string): { chars: number; bytes: number } {
  return { chars: text.length, bytes: utf8.encode(text).length };
}

/** Whether `text` fits `limit`. */
export function fitsLimit(text: string, limit: TextLimit): boolean {
  const size = textSize(text);
  return (
    (limit.chars === undefined || size.chars <= limit.chars) &&
    (limit.bytes === undefined || size.bytes <= limit.bytes)
  );
}
