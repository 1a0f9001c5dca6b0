import { createHash } from 'node:crypto';
import {
  firstMailbox,
  headerValues,
  htmlToText,
  type MailAttachment,
  messageIdsOf,
  type ParsedMail,
  splitReply,
} from '#lib/channels/email/mime.ts';
import { normalizeMail, type SaveAttachment } from '#lib/channels/email/normalize-mail.ts';
import type { InboundEvent } from '#lib/domain/message.ts';
import type { MailgunPayload } from './schema.ts';

export type MailgunNormalizeDeps = {
  saveAttachment: SaveAttachment;
  ourAddresses: readonly string[];
};

/** A digest of what a mail says (its sender, subject, text and files): the same on Mailgun's retries of one POST. */
function mailgunContentDigest(payload: MailgunPayload): string {
  const digest = createHash('sha256');
  for (const part of [payload.from, payload.subject, payload['body-plain'], payload['body-html'] ?? '']) {
    digest.update(part).update('\0');
  }
  for (const file of payload.files) digest.update(`${file.filename}\0${file.content.byteLength}\0`);
  return digest.digest('hex');
}

function mailgunHeaderMessageId(payload: MailgunPayload): string | undefined {
  return messageIdsOf(payload['Message-Id'] ?? headerValues(payload['message-headers'], 'message-id')[0])[0];
}

/**
 * Mailgun's id of a delivery: the mail's Message-Id with a digest of what the mail says, the
 * same on Mailgun's retries of one POST. The Message-Id alone is the sender's choice: a scanner
 * or a script that gives every mail the same one, or two senders that happen to, would have
 * every mail after the first dropped as a duplicate. Without a Message-Id: a hash of the signed
 * timestamp + token.
 */
export function mailgunMessageId(payload: MailgunPayload): string {
  const id = mailgunHeaderMessageId(payload);
  if (!id) {
    return `mailgun:${createHash('sha256')
      .update(payload.timestamp + payload.token)
      .digest('hex')}`;
  }
  return `${id}#${mailgunContentDigest(payload).slice(0, 16)}`;
}

/**
 * What a signed token is bound to: Mailgun signs only `timestamp + token`, so the signature of
 * one POST could carry another form. The first POST with a token binds it to its mail; only
 * that mail (Mailgun's retries of it) may use the token again.
 */
export function mailgunTokenBinding(payload: MailgunPayload): string {
  return `${mailgunHeaderMessageId(payload) ?? ''}#${mailgunContentDigest(payload)}`;
}

/**
 * The form fields of the files a mail shows inside its text: Mailgun's `content-id-map`, a JSON
 * object from each inline part's Content-ID to its field (`attachment-1`). Empty when there is
 * none or it cannot be read (the files are then all attachments, as before).
 */
function inlineFields(map: unknown): Set<string> {
  if (typeof map !== 'string') return new Set();
  try {
    const parsed: unknown = JSON.parse(map);
    if (typeof parsed !== 'object' || parsed === null) return new Set();
    return new Set(Object.values(parsed).filter((field): field is string => typeof field === 'string'));
  } catch {
    return new Set();
  }
}

/**
 * Rebuilds the mail from Mailgun's parsed fields: headers from `message-headers`, the text
 * from `body-plain` (or the HTML converted), the new part from Mailgun's `stripped-text`
 * (our own reply splitter when Mailgun found none).
 */
export async function mailOfMailgun(payload: MailgunPayload): Promise<ParsedMail> {
  const headers = payload['message-headers'];
  const header = (name: string) => headerValues(headers, name)[0];
  const plain = payload['body-plain'].trim();
  const text = plain || (payload['body-html'] ? await htmlToText(payload['body-html']) : '');
  const stripped = payload['stripped-text']?.trim();
  const shown = inlineFields(payload['content-id-map']);
  const attachments: MailAttachment[] = payload.files.map((file) => ({
    name: file.filename.trim() || file.field,
    contentType: file.contentType,
    size: file.content.byteLength,
    content: file.content,
    ...(shown.has(file.field) && file.contentType.toLowerCase().startsWith('image/') ? { inline: true } : {}),
  }));
  const mail: ParsedMail = {
    headers,
    to: [firstMailbox(payload.To as string | undefined) ?? firstMailbox(header('to'))].filter(
      (box) => box !== undefined,
    ),
    subject: payload.subject.trim() || (header('subject') ?? '').trim(),
    references: messageIdsOf(payload.References ?? header('references')),
    text,
    newText: stripped || splitReply(text).newText,
    attachments,
  };
  const from = firstMailbox(payload.from);
  if (from) mail.from = from;
  const replyTo = firstMailbox(header('reply-to'));
  if (replyTo) mail.replyTo = replyTo;
  const messageId = mailgunHeaderMessageId(payload);
  if (messageId) mail.messageId = messageId;
  const inReplyTo = messageIdsOf(payload['In-Reply-To'] ?? header('in-reply-to'))[0];
  if (inReplyTo) mail.inReplyTo = inReplyTo;
  return mail;
}

/** Turns one verified Mailgun route POST into the normalized message event. */
export async function normalizeMailgunRoute(
  payload: MailgunPayload,
  deps: MailgunNormalizeDeps,
): Promise<InboundEvent[]> {
  const mail = await mailOfMailgun(payload);
  return normalizeMail(mail, {
    provider: 'mailgun',
    providerMessageId: mailgunMessageId(payload),
    recipient: payload.recipient.split(',')[0]?.trim(),
    envelopeSender: payload.sender,
    ourAddresses: deps.ourAddresses,
    saveAttachment: deps.saveAttachment,
  });
}
