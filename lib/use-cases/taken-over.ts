import type { Contact } from '#lib/domain/contact.ts';
import { type Conversation, keptByContact } from '#lib/domain/conversation.ts';
import type { ConversationStore } from '#lib/ports/conversation-store.ts';

// A conversation a new number's contact took over when the customer changed their number
// (carryToNewNumber, `takenOverBy`): its resolve and reopen reach that contact's pointer too, as
// they reach its own contact's (agent-actions: resolve, reopen). Nothing for any other.

/**
 * The contacts that took `conversation` over, as they stand before a resolve writes it: their
 * claim tokens then predate the resolve, so a reopen racing it keeps their pointers. One GetItem
 * each, only for such a conversation.
 */
export async function takersBefore(store: ConversationStore, conversation: Conversation): Promise<Contact[]> {
  const takers: Contact[] = [];
  for (const key of conversation.takenOverBy ?? []) {
    const contact = await store.getContact(key);
    if (contact?.openConversationId === conversation.id) takers.push(contact);
  }
  return takers;
}

/**
 * After the resolve: each of `takers` (read before it) no longer points to the conversation, and
 * keeps its last ack and our last reply as its own contact does, so that the new number's next
 * message opens a conversation of its own at once, not acknowledged again too soon. One
 * conditional write each, under the token read before (a reopen since keeps the pointer).
 */
export async function releaseTakers(
  store: ConversationStore,
  resolved: Conversation,
  takers: Contact[],
  now: Date,
): Promise<void> {
  for (const taker of takers) {
    await store.releaseOpenConversation(
      taker.key,
      resolved.id,
      now,
      keptByContact(resolved, taker),
      taker.claimToken ?? null,
    );
  }
}

/**
 * After a reopen, once the conversation is written open: each contact that took it over points
 * to it again unless it has another open (its own, opened by a message that came first): its
 * messages join it. A fresh claim token, so that a message that read the conversation resolved
 * before this claim no longer replaces the pointer: it reads again and joins. One GetItem and
 * one conditional write each, only for such a conversation; a repeat claims again. Returns
 * `reopened`.
 */
export async function reclaimTakers(
  store: ConversationStore,
  reopened: Conversation,
  now: Date,
): Promise<Conversation> {
  for (const key of reopened.takenOverBy ?? []) {
    const pointer = (await store.getContact(key))?.openConversationId ?? null;
    if (pointer !== null && pointer !== reopened.id) continue;
    // Still named (a release that did not happen): claimed again in place, already listed.
    const replacing = pointer === reopened.id ? reopened.id : undefined;
    await store.claimOpenConversation(key, reopened.id, { channel: reopened.channel, now }, replacing);
  }
  return reopened;
}
