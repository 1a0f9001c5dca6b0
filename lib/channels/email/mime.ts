import { randomUUID } from 'node:crypto';
import PostalMime, { type Address, addressParser, type Mailbox } from 'postal-mime';
import { MalformedPayloadError } from '#lib/channels/channel.ts';
import { splitReply } from './reply.ts';

export { splitReply } from './reply.ts';

/** One header as sent: `name` lower-cased, `value` unfolded but not decoded. */
export type MailHeader = { name: string; value: string };

export type MailAddress = { address: string; name?: string };

/**
 * An attachment with its bytes, ready to be stored before the message is recorded. `inline`: an
 * image the mail shows inside its text (a signature's logo), not a file the sender attached.
 */
export type MailAttachment = {
  name: string;
  contentType: string;
  size: number;
  content: Uint8Array;
  inline?: boolean;
};

/**
 * One parsed mail, whichever way it reached us (raw MIME from SES, form fields from
 * Mailgun): what the normalizer and the loop guard need and nothing provider-specific.
 */
export type ParsedMail = {
  headers: MailHeader[];
  from?: MailAddress;
  replyTo?: MailAddress;
  to: MailAddress[];
  subject: string;
  /** RFC 5322 ids, without angle brackets. */
  messageId?: string;
  inReplyTo?: string;
  references: string[];
  /** The whole text: text/plain, or the HTML part converted to text. */
  text: string;
  /** What the sender wrote this time, without the quoted history; `text` when none was found. */
  newText: string;
  attachments: MailAttachment[];
};

// Enough for any real mail body; the cap bounds the work a hostile message can cause.
const MAX_ATTACHMENTS = 50;
/**
 * The header bytes of a mail, all MIME parts together (postal-mime's default is 2 MB). 256 KB
 * is Exchange Online's own limit and far above real mail. postal-mime 4.0.0 (the newest the
 * registry here offers) joins adjacent base64 encoded-words in quadratic time
 * (GHSA-f2hq-32vh-53cc, fixed in a later 4.x): 40,000 `=?UTF-8?B?YWJj?=` words, 664 KB, took
 * 0.7 s here and 2 MB would take seconds; under this cap it stays under ~50 ms.
 */
export const MAX_HEADER_BYTES = 256 * 1024;

/** Every value of one header, in the order sent (`name` is matched case-insensitively). */
export function headerValues(headers: readonly MailHeader[], name: string): string[] {
  const key = name.toLowerCase();
  return headers.filter((header) => header.name === key).map((header) => header.value);
}

/** The RFC 5322 msg-ids in a Message-ID / In-Reply-To / References value, without brackets. */
export function messageIdsOf(value: string | undefined): string[] {
  if (!value) return [];
  const bracketed = [...value.matchAll(/<([^<>\s]+)>/g)].map((match) => match[1] as string);
  if (bracketed.length > 0) return bracketed;
  // Some senders drop the brackets; one bare token is still an id.
  const bare = value.trim();
  return bare && !/[\s<>]/.test(bare) ? [bare] : [];
}

/** The first mailbox of an address header value (groups flattened), if any. */
export function firstMailbox(value: string | undefined): MailAddress | undefined {
  if (!value) return undefined;
  return mailboxesOf(addressParser(value, { flatten: true }))[0];
}

function mailboxesOf(addresses: readonly Address[] | undefined): MailAddress[] {
  const result: MailAddress[] = [];
  for (const entry of addresses ?? []) {
    const boxes: Mailbox[] = entry.group ? entry.group : [entry];
    for (const box of boxes) {
      const address = box.address.trim();
      if (!address.includes('@')) continue;
      result.push(box.name.trim() ? { address, name: box.name.trim() } : { address });
    }
  }
  return result;
}

/**
 * HTML converted to text with postal-mime's own linear-time converter. postal-mime converts
 * only when a mail has both kinds of part and does not export the converter, so the HTML
 * goes through it as the second part of a mail whose plain part is empty.
 */
export async function htmlToText(html: string): Promise<string> {
  const boundary = `=_html_${randomUUID()}`;
  const mail = [
    `Content-Type: multipart/mixed; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=utf-8',
    '',
    '',
    `--${boundary}`,
    'Content-Type: text/html; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    html,
    `--${boundary}--`,
    '',
  ].join('\r\n');
  const email = await PostalMime.parse(mail);
  return (email.text ?? '').trim();
}

// File name extensions of the types mail sends unnamed: a meeting invitation, pasted images.
const EXTENSIONS: Record<string, string> = {
  'text/calendar': 'ics',
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'application/pdf': 'pdf',
  'message/rfc822': 'eml',
  'text/plain': 'txt',
  'text/html': 'html',
};

/**
 * The file name of a part that names none: `invite.ics` for a meeting invitation (Outlook and
 * Google Calendar name none), else `attachment-<n>` with the extension of its type when known,
 * so the file opens where it is downloaded.
 */
function unnamedPart(contentType: string, index: number): string {
  const extension = EXTENSIONS[contentType.toLowerCase()];
  if (extension === 'ics') return 'invite.ics';
  return `attachment-${index + 1}${extension ? `.${extension}` : ''}`;
}

function bytesOf(content: ArrayBuffer | Uint8Array | string): Uint8Array {
  if (typeof content === 'string') return new TextEncoder().encode(content);
  return content instanceof Uint8Array ? content : new Uint8Array(content);
}

/**
 * Parses a raw MIME message (RFC 5322 + 2045–2049, RFC 2047 words decoded) into a
 * ParsedMail. Throws MalformedPayloadError when the bytes are not a message at all.
 */
export async function parseMime(raw: Uint8Array | string): Promise<ParsedMail> {
  let email: Awaited<ReturnType<typeof PostalMime.parse>>;
  try {
    email = await PostalMime.parse(raw, {
      attachmentEncoding: 'arraybuffer',
      maxHeadersSize: MAX_HEADER_BYTES,
    });
  } catch (cause) {
    // postal-mime rejects only on its own limits (nesting depth, header size).
    throw new MalformedPayloadError('The mail is not parseable MIME', [
      cause instanceof Error ? cause.name : 'mime',
    ]);
  }
  if (email.headers.length === 0) throw new MalformedPayloadError('The mail has no headers', ['headers']);
  let text = (email.text ?? '').trim();
  if (!text && email.html) text = await htmlToText(email.html);
  const { newText } = splitReply(text);
  const from = email.from ? mailboxesOf([email.from])[0] : undefined;
  const replyTo = mailboxesOf(email.replyTo)[0];
  const attachments = email.attachments.slice(0, MAX_ATTACHMENTS).map((attachment, index) => {
    const content = bytesOf(attachment.content);
    const contentType = attachment.mimeType || 'application/octet-stream';
    const kept: MailAttachment = {
      name: attachment.filename?.trim() || unnamedPart(contentType, index),
      contentType,
      size: content.byteLength,
      content,
    };
    // An image shown inside the text: referenced by Content-ID, inline or in multipart/related,
    // never one the sender marked as an attachment.
    const shown = attachment.disposition === 'inline' || (attachment.related && !attachment.disposition);
    if (attachment.contentId && shown && contentType.toLowerCase().startsWith('image/')) kept.inline = true;
    return kept;
  });
  const mail: ParsedMail = {
    headers: email.headers.map((header) => ({ name: header.key, value: header.value })),
    to: mailboxesOf(email.to),
    subject: email.subject?.trim() ?? '',
    references: messageIdsOf(email.references),
    text,
    newText,
    attachments,
  };
  if (from) mail.from = from;
  if (replyTo) mail.replyTo = replyTo;
  const messageId = messageIdsOf(email.messageId)[0];
  if (messageId) mail.messageId = messageId;
  const inReplyTo = messageIdsOf(email.inReplyTo)[0];
  if (inReplyTo) mail.inReplyTo = inReplyTo;
  return mail;
}
