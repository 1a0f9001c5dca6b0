// An agent's reply the provider reports it did not deliver: said to the agents' tool, and the
// conversation the customer's thanks for it resolved opened again.

import { type Conversation, reopenedByFailure, replyFailed } from '#lib/domain/conversation.ts';
import type { DeliveryUpdate, Message } from '#lib/domain/message.ts';
import type { Clock } from '#lib/ports/clock.ts';
import type { ConversationStore } from '#lib/ports/conversation-store.ts';
import { updateConversation } from './conversation-writes.ts';

/**
 * The agents' tool hears that a reply did not reach the customer (reply.failed, once per reply).
 * Reported after the conversation was resolved, while it is its latest reply: the contact's kept
 * reply (lastPlainReplyAt) no longer counts as an answer their thanks may be for (one conditional
 * UpdateItem, keepLastReply's, on that path only: only forward, a later reply kept stays).
 * True when the conversation is a call's (its route's channel is voice).
 */
export async function markReplyFailed(
  deps: { store: ConversationStore; clock: Clock },
  message: Message,
  update: DeliveryUpdate,
): Promise<boolean> {
  const status = update.status === 'failed' ? 'failed' : 'undelivered';
  let call = false;
  const now = deps.clock.now();
  // Worth sending again (a transient code): said so, never resent here; a person's words are theirs to send.
  const updated = await updateConversation(deps.store, message.conversationId, (current) => {
    call = current.route.channel === 'voice';
    const failed = replyFailed(current, {
      messageId: message.id,
      sentAt: message.createdAt,
      status,
      errorCode: update.errorCode,
      ...(update.retryable ? { retryable: true } : {}),
      at: now,
    });
    // The answer the customer's thanks resolved it after: open again, for the agent, in this write.
    return failed.replyFailure?.messageId === message.id
      ? reopenedByFailure(failed, message.createdAt, now)
      : failed;
  });
  if (updated?.status === 'resolved' && updated.replyFailure?.messageId === message.id) {
    await deps.store.keepLastReply(updated.contact.key, new Date(message.createdAt), true);
    await reopenBornResolved(deps, updated, message, now);
  }
  return call;
}

/**
 * The answer the agent resolved, reported undelivered or failed after the customer's thanks for
 * it were born resolved in a conversation of their own (the contact's pointer holds it): that
 * conversation is opened again (reopenedByFailure), while this answer is still the contact's
 * latest reply (a later one, elsewhere, may be what they thanked for). One read of the contact
 * and at most one conditional write, on this rare path only; a redelivery finds it open.
 */
async function reopenBornResolved(
  deps: { store: ConversationStore },
  answered: Conversation,
  message: Message,
  now: Date,
): Promise<void> {
  const contact = await deps.store.getContact(answered.contact.key);
  const thanks = contact?.openConversationId;
  if (!thanks || thanks === answered.id || !contact.lastReplyAt) return;
  if (Date.parse(contact.lastReplyAt) !== Date.parse(message.createdAt)) return;
  await updateConversation(deps.store, thanks, (current) =>
    reopenedByFailure(current, message.createdAt, now),
  );
}
