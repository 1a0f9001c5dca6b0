// Which of our own mails a customer's mail answers: the Message-IDs it names that SES gave ours.

import type { EmailMeta } from './message.ts';

/**
 * SES replaces any Message-ID we compose with its own, `<id>@<region>.amazonses.com` (us-east-1:
 * `email.amazonses.com`), the id being what SendEmail answered: the provider id our message is
 * stored under. Anyone's mail sent through SES has such an id too; only the stored one is ours.
 */
const SES_MESSAGE_ID = /^([0-9a-z]+(?:-[0-9a-z]+)*)@(?:email|[a-z]{2}(?:-[a-z]+)+-\d+)\.amazonses\.com$/i;

/** How many of the named ids are looked up: the ones a reply answers are the latest. */
export const MAX_THREAD_LOOKUPS = 3;

/**
 * The SES ids of the mails a mail answers that may be ours, the one it replies to first (its
 * In-Reply-To), then its References newest first, at most MAX_THREAD_LOOKUPS. None (so no read)
 * for a mail that names no SES-sent mail: a customer's first mail, most mail between people.
 */
export function sesIdsAnswered(email: Pick<EmailMeta, 'inReplyTo' | 'references'>): string[] {
  const named = [...(email.inReplyTo ? [email.inReplyTo] : []), ...[...email.references].reverse()];
  const ids: string[] = [];
  for (const messageId of named) {
    const id = SES_MESSAGE_ID.exec(messageId.trim())?.[1];
    if (id && !ids.includes(id)) ids.push(id);
    if (ids.length === MAX_THREAD_LOOKUPS) break;
  }
  return ids;
}

/**
 * The provider whose id names a send of ours, under which its alias is kept and its reports come:
 * our mail goes out through SES whichever provider brought the customer's in (Mailgun only
 * receives here), so a send on a Mailgun conversation is SES's. Every other provider sends its own.
 */
export function sendingProvider(provider: string): string {
  return provider === 'mailgun' ? 'ses' : provider;
}

/**
 * Where the releases before stop 35 kept the alias of a send on a Mailgun conversation (under
 * the conversation's provider): read when `ses` has none, for a report of a mail they sent.
 */
export const PREVIOUS_MAIL_ALIAS = 'mailgun';
