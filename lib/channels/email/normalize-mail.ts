import { createHash } from 'node:crypto';
import { MalformedPayloadError } from '#lib/channels/channel.ts';
import {
  type EmailMeta,
  type InboundEvent,
  type InboundMessage,
  type Media,
  WHOLE_TEXT_MEDIA,
} from '#lib/domain/message.ts';
import { canonicalAddress } from './address.ts';
import { answerAddressOf, noAckReasonOf } from './loop-guard.ts';
import type { ParsedMail } from './mime.ts';
import { tnefMayHoldFiles } from './tnef.ts';

/** Stores one attachment and answers where it now lives (a URL or a storage key). */
export type SaveAttachment = (name: string, contentType: string, bytes: Uint8Array) => Promise<string>;

/** What the provider knows about one mail beyond its content. */
export type MailContext = {
  provider: 'ses' | 'mailgun';
  /** SES `mail.messageId`; Mailgun's Message-Id (or a hash of timestamp + token). */
  providerMessageId: string;
  /** The address of ours the mail was delivered to (envelope RCPT TO). */
  recipient?: string;
  /** Envelope MAIL FROM: `''`/`'<>'` for a bounce, undefined when the provider does not say. */
  envelopeSender?: string;
  verdicts?: { spam?: string; virus?: string };
  ourAddresses: readonly string[];
  saveAttachment: SaveAttachment;
};

// Limits of InboundMessageSchema and EmailMetaSchema: clamp rather than reject a real mail.
const MAX_ID = 256;
const MAX_ADDRESS = 320;
const MAX_NAME = 200;
const MAX_HEADER = 998;
// The newest 20 are what threading needs (our own replies send as many); at most 20 KB.
const MAX_REFERENCES = 20;
/** Attachments kept of one mail (the MIME parser's cap, for Mailgun's parsed files too). */
const MAX_ATTACHMENTS = 50;
const MAX_CONTENT_TYPE = 100;

function clamp(text: string, max: number): string {
  // Never cut a surrogate pair in half.
  return text.length <= max ? text : text.slice(0, max).replace(/[\uD800-\uDBFF]$/, '');
}

/** A provider id that fits the store: long ones are replaced by a stable hash. */
export function boundedId(id: string): string {
  return id.length <= MAX_ID ? id : `sha256:${createHash('sha256').update(id).digest('hex')}`;
}

function emailMetaOf(mail: ParsedMail, replyTo: string | undefined): EmailMeta {
  const ids = (list: string[]) => list.filter((id) => id.length <= MAX_HEADER);
  // The newest references are the ones threading needs; the oldest go first when capped.
  const references = ids(mail.references).slice(-MAX_REFERENCES);
  const meta: EmailMeta = { subject: clamp(mail.subject, MAX_HEADER), references };
  const [messageId] = ids(mail.messageId ? [mail.messageId] : []);
  if (messageId) meta.messageId = messageId;
  const [inReplyTo] = ids(mail.inReplyTo ? [mail.inReplyTo] : []);
  if (inReplyTo) meta.inReplyTo = inReplyTo;
  if (replyTo) meta.replyTo = replyTo;
  return meta;
}

/**
 * One mail's key however it came in (Mailgun's parsed fields or the raw MIME SES stored): its
 * Message-ID with its sender, where answers go (the Reply-To followed, which keys the contact)
 * and a digest of what it says (subject, text without any whitespace, which the two ways in
 * break and trim differently, the attachments' bytes). The Message-ID alone is the sender's
 * choice: another sender reusing it, or a mailer that gives every mail the same one, must not
 * make a real mail a duplicate; nor may a copy whose answers go to someone else (a forged
 * Reply-To, a web form's next customer) take the place of the mail of the person it names.
 * None without one.
 */
export function sameMailKey(mail: ParsedMail, from: string, replyTo?: string): string | undefined {
  if (!mail.messageId) return undefined;
  const digest = createHash('sha256');
  const text = mail.text.normalize('NFC').replace(/\s+/gu, '');
  for (const part of [from, replyTo ?? '', mail.messageId, mail.subject.normalize('NFC').trim(), text]) {
    digest.update(keyPart(part)).update('\0');
  }
  // The MIME parser keeps the first 50; Mailgun's form may carry more. Their bytes, not their
  // sizes: a copy with a file swapped for another of the same size is another mail.
  for (const attachment of mail.attachments.slice(0, MAX_ATTACHMENTS)) {
    digest.update(createHash('sha256').update(attachment.content).digest()).update('\0');
  }
  return `mail:${digest.digest('hex')}`;
}

/**
 * A field as the same-mail key digests it: as it is, ended by a NUL, unless it holds a NUL
 * itself (a Message-ID or subject may: Mailgun's form keeps it), which would let two mails whose
 * fields differ only in where one ends share a key, the second dropped as the first's copy. Such
 * a field is its digest behind a 0xFF byte, which no UTF-8 text holds, so it matches no other.
 * Fields without a NUL keep the keys they had (a mail delivered both ways across a deploy).
 */
function keyPart(part: string): string | Uint8Array {
  if (!part.includes('\0')) return part;
  return Buffer.concat([Buffer.from([0xff]), Buffer.from(createHash('sha256').update(part).digest('hex'))]);
}

// Outlook's TNEF bundle: its own type (vnd. on some servers), or its name alone when a gateway
// relabelled it application/octet-stream.
const TNEF_TYPE = /^application\/(vnd\.)?ms-tnef$/i;
const TNEF_NAME = /^winmail\.dat$/i;

/** Whether an attachment is Outlook's winmail.dat (application/ms-tnef), not a file of its own. */
function isOutlookBundle(attachment: { name: string; contentType: string }): boolean {
  return TNEF_TYPE.test(attachment.contentType.trim()) || TNEF_NAME.test(attachment.name.trim());
}

/**
 * UTF-8 bytes of mail text kept inline in the message item (the rest goes to the mail store),
 * and the characters of the readable beginning kept instead (at most 3 bytes each): with 20
 * references of 998 octets and 50 attachments' entries the item stays far under DynamoDB's
 * 400 KB, whatever the script of the text.
 */
export const MAX_INLINE_BYTES = 64_000;
const INLINE_BEGINNING = 16_000;

/**
 * Turns one parsed mail into the normalized message event. The contact is whoever our answers
 * reach, in one key however a client writes it (canonicalAddress): the Reply-To when it is
 * followed (answerAddressOf; RFC 5322 §3.6.2), else the From. A conversation is an exchange
 * with the person who gets our answers: keyed by the From, two people writing through one web
 * form (one From, each their own Reply-To) would share one conversation, the second would get
 * no acknowledgement and an answer meant for the first could reach the second. The From stays
 * on the message as its author (`from`), the Reply-To as where answers go (`email.replyTo`).
 * The loop guard still judges the From and the envelope: they say who sent it.
 * Attachments are stored through `saveAttachment` before the message is returned.
 */
export async function normalizeMail(mail: ParsedMail, context: MailContext): Promise<InboundEvent[]> {
  const from = mail.from && canonicalAddress(mail.from.address);
  if (!from || from.length > MAX_ADDRESS - 'email:'.length) {
    throw new MalformedPayloadError('The mail has no usable From address', ['from']);
  }
  const guard = {
    headers: mail.headers,
    from,
    subject: mail.subject,
    envelopeSender: context.envelopeSender,
    verdicts: context.verdicts,
    ourAddresses: context.ourAddresses,
  };
  const to = (context.recipient ?? mail.to[0]?.address ?? '').trim().toLowerCase();
  // The address the mail came to is ours even when it is none of our sending addresses.
  const replyTo = answerAddressOf({ ...guard, replyTo: mail.replyTo?.address, recipient: to });
  const noAckReason = noAckReasonOf({ ...guard, answerAddress: replyTo });
  // Never copy a virus into our storage: the mail is recorded without its attachments.
  const keep = noAckReason === 'virus' ? [] : mail.attachments.slice(0, MAX_ATTACHMENTS);
  const media: Media[] = [];
  for (const attachment of keep) {
    const name = clamp(attachment.name, MAX_NAME);
    const contentType = clamp(attachment.contentType, MAX_CONTENT_TYPE);
    const url = await context.saveAttachment(name, contentType, attachment.content);
    media.push({
      url,
      contentType,
      name,
      size: attachment.size,
      ...(attachment.inline ? { inline: true } : {}),
      ...(isOutlookBundle(attachment)
        ? { outlookBundle: true, ...(tnefMayHoldFiles(attachment.content) ? { bundledFiles: true } : {}) }
        : {}),
    });
  }
  const message: InboundMessage = {
    provider: context.provider,
    providerMessageId: boundedId(context.providerMessageId),
    channel: 'email',
    kind: 'message',
    contactKey: `email:${replyTo ?? from}`,
    from,
    to: clamp(to, MAX_ADDRESS),
    // One line-break convention whichever way the mail came (Mailgun's fields keep CRLF).
    text: (mail.newText || mail.text).replace(/\r\n?/g, '\n'),
    media,
    email: emailMetaOf(mail, replyTo),
  };
  const sameMessageKey = sameMailKey(mail, from, replyTo);
  if (sameMessageKey) message.sameMessageKey = sameMessageKey;
  // The contact's name is the name of the address that keys it (a web form's From names the form).
  const name = (replyTo ? mail.replyTo?.name : mail.from?.name)?.trim();
  if (name) message.contactName = clamp(name, MAX_NAME);
  if (noAckReason) message.noAckReason = noAckReason;
  const fullText = mail.text.replace(/\r\n?/g, '\n');
  if (mail.newText && fullText !== message.text) message.fullText = fullText;
  // DynamoDB items stop at 400 KB: a long mail keeps its whole text beside the attachments,
  // never a failed write, and inline what the sender wrote this time: whole when it fits (a
  // line on top of a long quoted thread is not cut, nor read as cut), else a readable beginning.
  if (Buffer.byteLength(message.text) + Buffer.byteLength(message.fullText ?? '') > MAX_INLINE_BYTES) {
    const whole = message.fullText ?? message.text;
    const { name, contentType } = WHOLE_TEXT_MEDIA;
    const url = await context.saveAttachment(name, contentType, new TextEncoder().encode(whole));
    media.push({ url, contentType, name, size: Buffer.byteLength(whole), wholeText: true });
    if (Buffer.byteLength(message.text) > MAX_INLINE_BYTES) {
      message.text = `${clamp(message.text, INLINE_BEGINNING)}…`;
    }
    delete message.fullText;
  }
  return [{ type: 'message', message }];
}
