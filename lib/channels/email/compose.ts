import type { OutboundText } from '#lib/ports/channel-sender.ts';
import { sendableAddress } from './address.ts';
import { firstMailbox, type MailAddress } from './mime.ts';

/** The mail being answered (OutboundText.thread): what threading needs. */
export type EmailThread = NonNullable<OutboundText['thread']>;

export type ReplyDraft = {
  from: MailAddress;
  to: MailAddress;
  /** Where the customer's reply should go when not to `from` (RFC 5322 §3.6.2). */
  replyTo?: MailAddress | undefined;
  subject: string;
  text: string;
  thread?: EmailThread;
  date: Date;
  /** An acknowledgement or notice (marked as an automatic response), not a person's reply. */
  automatic: boolean;
};

// RFC 2047 §2: an encoded word is at most 75 characters; `=?UTF-8?B?` + `?=` take 12.
const MAX_WORD_BYTES = 45;
const MAX_REFERENCES = 20;
const REPLY_PREFIX = /^\s*(re|odp|aw|sv)\s*(\[\d+\])?\s*:/i;
const MSG_ID = /^[^\s<>()"]+@[^\s<>()"]+$/;
const ASCII_PRINTABLE = /^[\x20-\x7e]*$/;

function oneLine(value: string): string {
  // A CR or LF in a header value would start a header of the sender's choosing.
  return value.replace(/[\r\n\t]+/g, ' ').trim();
}

/** RFC 2047 B-encoded words for non-ASCII text, split between characters, never inside one. */
export function encodeWords(text: string): string {
  const encoder = new TextEncoder();
  const words: string[] = [];
  let chunk = '';
  for (const char of text) {
    if (encoder.encode(chunk + char).byteLength > MAX_WORD_BYTES) {
      words.push(chunk);
      chunk = '';
    }
    chunk += char;
  }
  if (chunk) words.push(chunk);
  // Folding between encoded words: the white space between two of them is not displayed.
  return words.map((word) => `=?UTF-8?B?${Buffer.from(word, 'utf8').toString('base64')}?=`).join('\r\n ');
}

/** An unstructured header value (Subject): as is when plain ASCII, else encoded words. */
export function encodeHeaderText(value: string): string {
  const line = oneLine(value);
  return ASCII_PRINTABLE.test(line) && line.length <= 900 ? line : encodeWords(line);
}

/** `Display Name <address>` with the name quoted or encoded as RFC 5322 / 2047 require. */
export function formatAddress(mailbox: MailAddress): string {
  const name = mailbox.name ? oneLine(mailbox.name) : '';
  if (!name) return `<${mailbox.address}>`;
  if (!ASCII_PRINTABLE.test(name)) return `${encodeWords(name)} <${mailbox.address}>`;
  return `"${name.replace(/(["\\])/g, '\\$1')}" <${mailbox.address}>`;
}

/**
 * Parses `Name <address>` or a bare address into the mailbox SES can send to (the domain in
 * Punycode, a quoted local part kept quoted); undefined when it is not one such mailbox.
 */
export function parseMailbox(value: string): MailAddress | undefined {
  const mailbox = firstMailbox(oneLine(value));
  const address = mailbox && sendableAddress(mailbox.address);
  return mailbox && address ? { ...mailbox, address } : undefined;
}

/** `Re: <original>`, without adding a second prefix to a subject that already has one. */
export function replySubject(original: string): string {
  const subject = oneLine(original);
  if (!subject) return 'Re:';
  return REPLY_PREFIX.test(subject) ? subject : `Re: ${subject}`;
}

function threadHeaders(thread: EmailThread | undefined): string[] {
  const messageId = thread?.messageId && MSG_ID.test(thread.messageId) ? thread.messageId : undefined;
  if (!messageId) return [];
  const earlier = (thread?.references ?? []).filter((id) => MSG_ID.test(id) && id !== messageId);
  // RFC 5322 §3.6.4: the parent's References followed by the parent's Message-ID. Long
  // chains keep the first (thread root) and the latest ids.
  const chain = [...earlier, messageId];
  const kept =
    chain.length <= MAX_REFERENCES ? chain : [chain[0] as string, ...chain.slice(-(MAX_REFERENCES - 1))];
  return [`In-Reply-To: <${messageId}>`, `References: ${kept.map((id) => `<${id}>`).join('\r\n ')}`];
}

function base64Lines(bytes: Uint8Array): string {
  const encoded = Buffer.from(bytes).toString('base64');
  return encoded.match(/.{1,76}/g)?.join('\r\n') ?? '';
}

/**
 * A complete RFC 5322 message: a plain-text UTF-8 answer (an automatic one, or a person's)
 * threaded under the mail it answers. Base64 keeps every line short and every byte intact whatever the text holds.
 * No Message-ID: SES replaces it with its own anyway.
 */
export function composeReply(draft: ReplyDraft): string {
  const body = draft.text.replace(/\r\n?|\n/g, '\r\n');
  const headers = [
    `From: ${formatAddress(draft.from)}`,
    `To: ${formatAddress(draft.to)}`,
    ...(draft.replyTo ? [`Reply-To: ${formatAddress(draft.replyTo)}`] : []),
    `Subject: ${encodeHeaderText(draft.subject)}`,
    `Date: ${draft.date.toUTCString().replace('GMT', '+0000')}`,
    ...threadHeaders(draft.thread),
    // RFC 3834 §5: marks an automatic response so other responders stay quiet; Exchange honours
    // X-Auto-Response-Suppress and sends no out-of-office back. Never on a person's reply.
    ...(draft.automatic ? ['Auto-Submitted: auto-replied', 'X-Auto-Response-Suppress: All'] : []),
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=UTF-8',
    'Content-Transfer-Encoding: base64',
  ];
  return `${headers.join('\r\n')}\r\n\r\n${base64Lines(new TextEncoder().encode(body))}\r\n`;
}
