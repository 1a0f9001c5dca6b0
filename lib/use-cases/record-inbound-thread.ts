import { PREVIOUS_MAIL_ALIAS, sesIdsAnswered } from '#lib/domain/mail-thread.ts';
import type { InboundMessage } from '#lib/domain/message.ts';
import type { RecordInboundDeps } from './record-inbound-deps.ts';

// Our mail's aliases are SES's (sendingProvider); a Mailgun conversation's mail sent by the
// previous release is under its own name, read only when SES's misses.
const MAIL_PROVIDERS = ['ses', PREVIOUS_MAIL_ALIAS] as const;

/**
 * A mail from another address that answers our mail (its In-Reply-To/References name the
 * Message-ID SES gave a mail of ours: a colleague the customer copied answering all, the
 * customer from another of their mailboxes) belongs to the conversation that mail went out in:
 * it is recorded under that mail's contact, as a message from its own address (`from`), and
 * answered to that contact (`email.threadCustomer`). Only a mail we stored under that id leads
 * anywhere: a Message-ID is known to everyone who got the mail, so it never names a conversation
 * by itself, nor adds anyone to those our answers go to. The sender's name stays off the
 * customer's contact. A mail naming no SES-sent mail costs no read.
 */
export async function joinThread(deps: RecordInboundDeps, inbound: InboundMessage): Promise<InboundMessage> {
  if (inbound.channel !== 'email' || !inbound.email || inbound.email.threadCustomer !== undefined)
    return inbound;
  const ids = sesIdsAnswered(inbound.email);
  if (ids.length === 0) return inbound;
  const sent = await deps.store.findSentMail(ids, MAIL_PROVIDERS);
  if (!sent || sent.contactKey === inbound.contactKey || !sent.contactKey.startsWith('email:'))
    return inbound;
  const { contactName: _theirs, ...rest } = inbound;
  return {
    ...rest,
    contactKey: sent.contactKey,
    email: { ...inbound.email, threadCustomer: sent.to },
  };
}
