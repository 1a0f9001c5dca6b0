// Channels and attachment kinds in the page's words: the API spells them for tools ("whatsapp",
// "voice", "image/jpeg"); an agent reads "WhatsApp", "phone call", "image". A channel or a kind
// the dictionaries do not know (a newer server's) is shown as the API gives it.

import { hasWords } from './dictionaries.js';
import { t } from './i18n.js';

/** A channel of the API (lib/domain/channel.ts: sms, mms, whatsapp, voice, …) in words. */
export const channelName = (channel) => (hasWords(`channel.${channel}`) ? t(`channel.${channel}`) : channel);

/** Schemes whose address an agent reads as it is (an older server gives no displayName). */
const READABLE = /^(phone|email|sip|client):(.+)$/;

/**
 * The name an agent reads for a conversation's customer, never the internal key ("phone:+48…"):
 * the API's displayName (their profile name, or their number written for people), else (an
 * older server) their name or address; a withheld number in words; an id nobody reads
 * (Messenger's, say) by the conversation's channel and the id's last characters.
 */
export function contactName(conversation) {
  const { contact } = conversation;
  if (contact.displayName) return contact.displayName;
  if (contact.name?.trim()) return contact.name.trim();
  const readable = READABLE.exec(contact.key ?? '');
  if (readable) return readable[2];
  if ((contact.key ?? '').startsWith('anonymous:')) return t('contact.withheld');
  // The end of their id tells two nameless customers of one channel apart (found at stop 35: two
  // Messenger users were both "Customer (Messenger)"); six characters, so that two in one list
  // rarely share it.
  const id = /^[a-z-]+:(.+)$/.exec(contact.key ?? '')?.[1];
  const channel = channelName(conversation.channel);
  return id ? t('contact.unnamedId', { channel, id: id.slice(-6) }) : t('contact.unnamed', { channel });
}

/** What an attachment is, by its content type; the first pattern that matches names it. */
const KINDS = [
  [/^image\//, 'image'],
  [/^audio\//, 'audio'],
  [/^video\//, 'video'],
  [/^application\/pdf$/, 'pdf'],
  [/^text\/(x-)?vcard$/, 'contact'],
  [/^text\/|^application\/(msword|rtf|vnd\.(ms-|openxmlformats-|oasis\.opendocument))/, 'document'],
];

/**
 * An attachment's kind in words ("image", "PDF document"), "file" for a content type of another
 * kind; Outlook's winmail.dat says what it is and where it opens.
 */
export function mediaKind(media) {
  if (media.outlookBundle) return t('media.outlookBundle');
  const type = (media.contentType ?? '').split(';')[0].trim().toLowerCase();
  const kind = KINDS.find(([pattern]) => pattern.test(type))?.[1] ?? 'file';
  return t(`media.${kind}`);
}
