// The one rule for a number (or address) the provider refuses for what it is, whichever path
// heard it: a send refused at once (an ack, a late notice, an agent's reply) or a report after it
// (Twilio's status callback, SES's bounce or complaint).

import type { OptOutReason } from '#lib/domain/contact.ts';
import { type Conversation, consentFromElsewhere } from '#lib/domain/conversation.ts';
import type { ConversationStore } from '#lib/ports/conversation-store.ts';
import { updateConversation } from './conversation-writes.ts';

/** What the provider said of the contact's number or address, and as of when. */
export type NumberRefusal = {
  /** The contact the message went to (phone:… or email:…). */
  key: string;
  /** Opted out with the provider (Twilio 21610, a bounce, a complaint), or takes no SMS (a landline). */
  recipient: 'opted-out' | 'no-sms';
  /** As of when the contact is marked (the refusal, or the refused message's sending for a 21610 report). */
  at: Date;
  /** An opt-out's reason on the contact (default: a STOP). */
  reason?: OptOutReason;
  /** When the refused message went: a report older than the number's own text (markNoSms) or the address's own mail (a bounce) is out of date. */
  sentAt?: Date;
  /** Where the opt-out is placed on the conversations (default `at`: a complaint's is when we heard it). */
  placedAt?: Date;
};

/**
 * Marks the number's contact as the provider said: opted out as by its STOP (setConsent: the
 * latest word wins), or `noSmsAt` (markNoSms: the first report stands). An opt-out that changed
 * the contact ends the pending automatic jobs (ack, late notice) of the refused message's
 * conversation and of the customer's open one (consentFromElsewhere: none started after; one
 * already being sent is past stopping), as a STOP said there would. `here` is the path's own
 * change to the refused message's conversation (its slot settled), applied first, in the same write.
 * An agent may still write by hand: the provider decides.
 */
export async function markRefusedNumber(
  deps: { store: ConversationStore; now: Date },
  refusal: NumberRefusal,
  conversationId: string,
  here?: (current: Conversation) => Conversation,
): Promise<void> {
  const { store, now } = deps;
  const { key, at } = refusal;
  if (refusal.recipient === 'no-sms') {
    await store.markNoSms(key, at, refusal.sentAt ?? at);
    if (here) await updateConversation(store, conversationId, here);
    return;
  }
  const stopped = await store.setConsent(key, true, at, refusal.reason, refusal.sentAt);
  const placed = (refusal.placedAt ?? at).toISOString();
  const stop = (current: Conversation) =>
    stopped ? consentFromElsewhere(current, true, placed, now) : current;
  await updateConversation(store, conversationId, (current) => stop(here ? here(current) : current));
  if (!stopped) return;
  // The report of an earlier conversation's message (a complaint comes hours late): the customer's
  // open one hears it too, its late notice never started (one read, on this rare path only).
  const open = (await store.getContact(key))?.openConversationId;
  if (open && open !== conversationId) await updateConversation(store, open, stop);
}
