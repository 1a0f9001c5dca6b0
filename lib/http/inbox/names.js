// Channels and attachment kinds in the page's words: the API spells them for tools ("whatsapp",
// "voice", "image/jpeg"); an agent reads "WhatsApp", "phone call", "image". A channel or a kind
// the dictionaries do not know (a newer server's) is shown as the API gives it.

import { hasWords } from './dictionaries.js';
import { t } from './i18n.js';

/** A channel of the API (lib/domain/channel.ts: sms, mms, whatsapp, voice, …) in words. */
export const channelName = (channel) => (hasWords(`channel.${channel}`) ? t(`channel.${channel}`) : channel);

/** What an attachment is, by its content type; the first pattern that matches names it. */
const KINDS = [
  [/^image\//, 'image'],
  [/^audio\//, 'audio'],
  [/^video\//, 'video'],
  [/^application\/pdf$/, 'pdf'],
  [/^text\/(x-)?vcard$/, 'contact'],
  [/^text\/|^application\/(msword|rtf|vnd\.(ms-|openxmlformats-|oasis\.opendocument))/, 'document'],
];

/** An attachment's kind in words ("image", "PDF document"), "file" for a content type of another kind. */
export function mediaKind(contentType) {
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  const kind = KINDS.find(([pattern]) => pattern.test(type))?.[1] ?? 'file';
  return t(`media.${kind}`);
}
