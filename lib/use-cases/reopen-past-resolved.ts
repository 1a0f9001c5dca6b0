// An agent's reopen while the contact's pointer still names another conversation that is resolved
// (one a thanks opened resolved, or a resolve not yet released): the pointer is taken over.

import { type Conversation, withoutThanksMarker } from '#lib/domain/conversation.ts';
import type { ConversationStore, OpenConversationClaim } from '#lib/ports/conversation-store.ts';
import { updateConversation } from './conversation-writes.ts';

/**
 * Reopen's claim of the contact's pointer for `conversation`: a claim even when the pointer still
 * names it (a resolve that has not released it yet): the new claim token keeps that resolve from
 * releasing it after us. Past another resolved conversation (reopenPastResolved).
 */
export async function claimForReopen(
  store: ConversationStore,
  conversation: Conversation,
  now: Date,
): Promise<OpenConversationClaim> {
  const touch = { channel: conversation.channel, now };
  const claim = await store.claimOpenConversation(
    conversation.contact.key,
    conversation.id,
    touch,
    conversation.id,
  );
  return claim.conversationId === conversation.id
    ? claim
    : reopenPastResolved(store, conversation, claim, now);
}

/**
 * After reopen's claim for `conversation` found the pointer on another (`claim`): if that one is
 * resolved, its thanks marker goes first (withoutThanksMarker), so a message that reads it after
 * this moves off it under the contact's claim token, as off any resolved conversation; then the
 * pointer is claimed under the token read with it. Exactly one of that message's claim and ours
 * wins: theirs, and the reopen meets the conversation their message opened (the customer wrote);
 * ours, and their message joins this one. One reopened by a message first is open: left to it.
 * Returns the claim as it then stands (one GetItem, and two conditional writes, on this path only).
 */
export async function reopenPastResolved(
  store: ConversationStore,
  conversation: Conversation,
  claim: OpenConversationClaim,
  now: Date,
): Promise<OpenConversationClaim> {
  const other = await store.getConversation(claim.conversationId);
  if (other?.status !== 'resolved') return claim;
  const plain = await updateConversation(store, other.id, withoutThanksMarker, other);
  if (plain?.status !== 'resolved' || plain.thanksResolved) return claim;
  return store.claimOpenConversation(
    conversation.contact.key,
    conversation.id,
    { channel: conversation.channel, now },
    other.id,
    claim.contact.claimToken ?? null,
  );
}
