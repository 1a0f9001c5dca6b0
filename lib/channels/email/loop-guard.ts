import { canonicalAddress, sendableAddress } from './address.ts';
import { headerValues, type MailHeader } from './mime.ts';

/** What the loop guard looks at: the headers plus what the provider saw in the SMTP envelope. */
export type LoopGuardInput = {
  headers: readonly MailHeader[];
  /** The From address (canonicalAddress). */
  from?: string;
  /**
   * The envelope sender (MAIL FROM) as the provider reports it: `''` or `'<>'` is the null
   * return path of a bounce; `undefined` when the provider does not say.
   */
  envelopeSender?: string;
  /** The decoded Subject: an autoresponder that sets none of the headers still names itself there. */
  subject?: string;
  /** SES receipt verdicts (`PASS`, `FAIL`, `GRAY`, `PROCESSING_FAILED`). */
  verdicts?: { spam?: string; virus?: string };
  /** Our own addresses (in any case or form): a mail from one of them is our own traffic. */
  ourAddresses: readonly string[];
  /** The Reply-To followed (answerAddressOf), when answers go there rather than to the From. */
  answerAddress?: string | undefined;
};

function ourSet(addresses: readonly string[]): Set<string> {
  return new Set(addresses.map((address) => canonicalAddress(address) ?? address.trim().toLowerCase()));
}

/** Mail a list distributed (RFC 2369 / 2919 List-* headers, `Precedence: list`). */
function isListMail(headers: readonly MailHeader[]): boolean {
  return (
    headers.some((header) => header.name.startsWith('list-')) ||
    headerValues(headers, 'precedence').some((value) => tokenOf(value) === 'list')
  );
}

// Local parts of addresses no person reads (RFC 3834 §2 asks responders to leave them alone).
const SYSTEM_SENDER =
  /^(mailer-daemon|postmaster|no[-_.]?reply|do[-_.]?not[-_.]?reply|noreply-[^@]*|bounces?|bounce-[^@]*)(\+[^@]*)?@/i;

const MAIL_SYSTEM = /^(mailer-daemon|postmaster)(\+[^@]*)?@/i;

// Return paths that wrap the sender's own: BATV's `prvs=<tag>=<local>@` (signing MTAs) and SRS's
// `SRS0=<hash>=<tt>=<domain>=<local>@<forwarder>` (forwarders). What they wrap says who sent it.
const BATV = /^(?:prvs|btv1)=[^=@]*=+([^@]+)@/i;
const SRS0 = /^srs0=[^=@]*=[^=@]*=([^=@]+)=([^@]+)@/i;

/** The sender a return path stands for, BATV and SRS unwrapped. */
function unwrappedReturnPath(address: string): string {
  const srs = SRS0.exec(address);
  if (srs) return `${srs[2]}@${srs[1]}`;
  const batv = BATV.exec(address);
  return batv ? `${batv[1]}${address.slice(address.lastIndexOf('@'))}` : address;
}

// The message schema's limit of a contact key, less its `email:` prefix: a Reply-To followed
// keys the contact (normalizeMail) and is the route's `customer`.
const MAX_ANSWER_ADDRESS = 320 - 'email:'.length;

// The subjects autoresponders put before the subject they answer (Outlook, Exchange, webmail and
// vacation rules in Polish, English and German), ended by a colon: a person's subject only
// mentions them ("Re: Dlaczego dostaję automatyczną odpowiedź?"), never opens with one of these.
// Read as NFC with every space a plain one: a Mac writes "ź" decomposed, a webmail may space with NBSP.
const AUTO_REPLY_SUBJECT =
  /^\s*(automatyczna odpowied[zź]|odpowied[zź] automatyczna|autoodpowied[zź]|out of (the )?office( auto-?reply| reply)?|automatic reply|auto[- ]?reply|auto[- ]?response|abwesenheitsnotiz|automatische antwort)\s*:/iu;

/** Whether a subject opens as an autoresponder's does (AUTO_REPLY_SUBJECT), whatever its Unicode form or spaces. */
function autoReplySubject(subject: string): boolean {
  return AUTO_REPLY_SUBJECT.test(subject.normalize('NFC').replace(/\s+/gu, ' '));
}

const SUPPRESS_TOKENS = new Set(['all', 'oof', 'autoreply']);

function tokenOf(value: string): string {
  // Header values may carry comments or parameters: `auto-replied (vacation)`, `bulk; x=1`.
  return (
    value
      .replace(/\([^)]*\)/g, '')
      .split(';')[0]
      ?.trim()
      .toLowerCase() ?? ''
  );
}

function bareAddress(value: string): string {
  const match = /<([^<>]*)>/.exec(value);
  return (match ? (match[1] ?? '') : value).trim().toLowerCase();
}

function isNullPath(value: string | undefined): boolean {
  return value !== undefined && bareAddress(value) === '';
}

function headerReason(headers: readonly MailHeader[]): string | null {
  const values = (name: string) => headerValues(headers, name);
  if (values('content-type').some((value) => tokenOf(value) === 'multipart/report')) return 'delivery-report';
  if (values('auto-submitted').some((value) => tokenOf(value) !== 'no' && tokenOf(value) !== '')) {
    return 'auto-submitted';
  }
  const suppress = values('x-auto-response-suppress').flatMap((value) =>
    value.split(',').map((token) => token.trim().toLowerCase()),
  );
  if (suppress.some((token) => SUPPRESS_TOKENS.has(token))) return 'auto-response-suppress';
  if (values('x-autoreply').length > 0) return 'x-autoreply';
  if (values('x-autorespond').length > 0) return 'x-autorespond';
  const precedence = values('precedence').map(tokenOf);
  for (const kind of ['bulk', 'list', 'junk', 'auto_reply']) {
    if (precedence.includes(kind)) return `precedence-${kind}`;
  }
  if (values('list-id').length > 0) return 'list-id';
  if (values('list-unsubscribe').length > 0) return 'list-unsubscribe';
  // RFC 3834 §2: any List-* header marks list traffic.
  if (headers.some((header) => header.name.startsWith('list-'))) return 'list-header';
  return null;
}

/**
 * Why a mail must be recorded but never answered (RFC 3834 and common practice), or null
 * when a person wrote it and an acknowledgement is welcome. Each reason is its own stable
 * string, so the store and the logs say exactly which rule held it back.
 */
export function noAckReasonOf(input: LoopGuardInput): string | null {
  const { headers, verdicts } = input;
  if (verdicts?.virus?.toUpperCase() === 'FAIL') return 'virus';
  if (verdicts?.spam?.toUpperCase() === 'FAIL') return 'spam';
  const ours = ourSet(input.ourAddresses);
  const from = input.from ? bareAddress(input.from) : '';
  if (from && ours.has(from)) return 'own-address';
  // A bounce or DSN: RFC 3834 §2 never answers an empty return path.
  const returnPaths = headerValues(headers, 'return-path');
  if (isNullPath(input.envelopeSender) || returnPaths.some(isNullPath)) return 'null-return-path';
  // The envelope sender, else the Return-Path the last MTA wrote from it (Mailgun may name none).
  const envelope = input.envelopeSender !== undefined ? [input.envelopeSender] : returnPaths;
  const returnPathSenders = envelope.map((path) => unwrappedReturnPath(bareAddress(path))).filter(Boolean);
  const fromHeaders = headerReason(headers);
  if (fromHeaders) return fromHeaders;
  // Older webmail and hand-written vacation rules mark an out-of-office by its subject alone.
  if (input.subject && autoReplySubject(input.subject)) return 'auto-reply-subject';
  // A no-reply From or a sending service's bounce return path (bounces+…@) says nobody reads
  // answers there. A mail that asks for them at a person's address (a contact form's, the
  // customer as Reply-To) is answered there: only that address is judged.
  // A mail system's own From or return path (a bounce that kept one) is never a person's mail.
  const mailSystem = [from, ...returnPathSenders].some((address) => MAIL_SYSTEM.test(address));
  const senders = input.answerAddress && !mailSystem ? [input.answerAddress] : [from, ...returnPathSenders];
  if (senders.some((address) => address && SYSTEM_SENDER.test(address))) return 'system-sender';
  return null;
}

/**
 * Where answers to a mail go when not to its From: its Reply-To (RFC 5322 §3.6.2; a web form
 * sending in a customer's name, a person who reads another mailbox), as canonicalAddress gives
 * it; normalizeMail keys the contact by it too. Undefined (answer the From) when there is none,
 * it is the From, it is one of our own addresses or the one the mail came to (`recipient`: we
 * would write to ourselves, a loop), the From is ours (our own traffic keeps its own key), it is
 * a system address no person reads, SES cannot send to it (a non-ASCII local part: no SMTPUTF8)
 * while it can to the From, or a list distributed the mail: a list's Reply-To is the list, and
 * an answer there would go to every member (its mail is never acknowledged; an agent's answer
 * goes to the author).
 */
export function answerAddressOf(
  input: LoopGuardInput & { replyTo?: string | undefined; recipient?: string | undefined },
): string | undefined {
  const replyTo = input.replyTo ? canonicalAddress(input.replyTo) : undefined;
  if (!replyTo || replyTo === input.from || replyTo.length > MAX_ANSWER_ADDRESS) return undefined;
  const ours = ourSet(input.recipient ? [...input.ourAddresses, input.recipient] : input.ourAddresses);
  // Our own mail stays our own traffic under its From, never pulled into a customer's conversation.
  if (ours.has(replyTo) || (input.from && ours.has(input.from)) || SYSTEM_SENDER.test(replyTo))
    return undefined;
  if (!sendableAddress(replyTo) && input.from && sendableAddress(input.from)) return undefined;
  return isListMail(input.headers) ? undefined : replyTo;
}
