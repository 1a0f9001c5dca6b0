// What the contact keeps of a conversation that ends: its last sent ack and our last reply.

import { later } from './inbound-times.ts';
import type { Conversation } from './schema.ts';

/** The last acknowledgement a contact got: when, and on which conversation. */
export type LastAck = { at: string; conversationId: string };

/**
 * The conversation's acknowledgement if one was sent to the customer (not a promise only
 * spoken on a call): what the contact keeps when the conversation ends, so that its next
 * conversation is not acknowledged again within minutes (see the ack policy).
 */
export function lastSentAck(conversation: Conversation): LastAck | null {
  const ack = conversation.ack;
  return ack?.state === 'sent' && ack.messageId && ack.sentAt
    ? { at: ack.sentAt, conversationId: conversation.id }
    : null;
}

/**
 * Our last reply on the conversation, as the contact keeps it when the conversation ends: the
 * later of the conversation's and the one the contact already holds (a follow-up's), so the
 * quiet time after a reply holds into the contact's next conversation.
 */
export function lastReplyKept(
  conversation: Conversation,
  contact: { lastReplyAt?: string } | null,
): string | null {
  const ours = conversation.lastReplyAt;
  const kept = contact?.lastReplyAt ?? null;
  if (ours === null || kept === null) return ours ?? kept;
  return later(ours, kept);
}

/**
 * Whether the reply lastReplyKept keeps asked the customer something: the conversation's own
 * (conversationReplyAsked) when it is the later one, else the one the contact holds. Not known: asked,
 * so a thanks after it stays open for an agent (it may answer the question). One the provider
 * reported undelivered or failed (replyFailure: the latest reply's) counts as asking too: it never
 * reached the customer, so their thanks cannot be for it.
 */
export function lastReplyAskedKept(conversation: Conversation, contact: ContactReply | null): boolean {
  const kept = lastReplyKept(conversation, contact);
  if (kept !== null && kept === conversation.lastReplyAt)
    return conversationReplyAsked(conversation) || conversation.replyFailure !== undefined;
  return contact === null || contactReplyAsked(contact);
}

/** What a contact holds of our last reply: its time, and the time of the latest that asked nothing. */
export type ContactReply = { lastReplyAt?: string; lastPlainReplyAt?: string };

/**
 * Whether the reply the contact keeps (at `lastReplyAt`) asked the customer something, or may
 * have: only a `lastPlainReplyAt` equal to it says it asked nothing (a reply a release that knows
 * no such field kept later moved `lastReplyAt` past it), as conversationReplyAsked.
 */
export function contactReplyAsked(contact: ContactReply): boolean {
  return contact.lastReplyAt === undefined || contact.lastPlainReplyAt !== contact.lastReplyAt;
}

/**
 * Whether the conversation's latest reply (at `lastReplyAt`) asked the customer something, or
 * may have: only a `lastPlainReplyAt` equal to it says it asked nothing (a reply an older
 * release applied moved `lastReplyAt` past it).
 */
export function conversationReplyAsked(conversation: Conversation): boolean {
  return conversation.lastReplyAt === null || conversation.lastPlainReplyAt !== conversation.lastReplyAt;
}

/** All a contact keeps of a conversation that ends (releaseOpenConversation's `kept`). */
export function keptByContact(
  conversation: Conversation,
  contact: ContactReply | null,
): { lastAck: LastAck | null; lastReplyAt: string | null; lastReplyAsked: boolean } {
  return {
    lastAck: lastSentAck(conversation),
    lastReplyAt: lastReplyKept(conversation, contact),
    lastReplyAsked: lastReplyAskedKept(conversation, contact),
  };
}
