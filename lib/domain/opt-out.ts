// What lifts an opt-out that is no customer's word: a bounce, by their own mail.

import { type Contact, optOutReason } from './contact.ts';
import type { InboundMessage } from './message.ts';

/**
 * Whether the customer's own mail, received at `receivedAt`, lifts the contact's bounce: their
 * address, where our mail bounced for good, works after all. Not their mailbox's automatic mail
 * (any message with a reason not to answer it), never a complaint nor a STOP. Also the retry of
 * the mail that lifted it (consent then at its receipt time): applied again, its ack still owed.
 */
export function bounceLiftedBy(
  message: Pick<InboundMessage, 'channel' | 'noAckReason' | 'consent' | 'email'>,
  contact: Pick<Contact, 'key' | 'optedOut' | 'optedOutReason' | 'optedOutReasonAt' | 'consentAt'>,
  receivedAt: Date,
): boolean {
  if (!ownMail(message)) return false;
  if (contact.optedOut) return optOutReason(contact) === 'bounce';
  return contact.consentAt === receivedAt.toISOString();
}

/**
 * Whether a message is the customer's own mail, which proves their mailbox works: an email with
 * no reason not to answer it (their mailbox's automatic mail, a list post) and no keyword, sent
 * from the contact's address itself: a mail whose Reply-To is the contact (a web form sending in
 * their name, their other mailbox) was written from another one.
 */
export function ownMail(
  message: Pick<InboundMessage, 'channel' | 'noAckReason' | 'consent' | 'email'>,
): boolean {
  return (
    message.channel === 'email' &&
    message.noAckReason === undefined &&
    !message.consent &&
    // Another address's mail in the customer's thread proves nothing of the customer's mailbox.
    message.email?.threadCustomer === undefined &&
    message.email?.replyTo === undefined
  );
}

/** Whether an ack or notice failed for a permanent bounce (SES's report: `delivery-failed:ses-bounce:…`). */
export function bouncedReason(reason: string | undefined): boolean {
  return reason?.startsWith('delivery-failed:ses-bounce') === true;
}
