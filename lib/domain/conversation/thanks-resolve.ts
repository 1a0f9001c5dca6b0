// A conversation that resolves itself: after our answer, the customer only thanked us.

import type { Message } from '../message.ts';
import type { ApplyInboundResult, InboundContext } from './inbound-context.ts';
import { conversationReplyAsked } from './kept-by-contact.ts';
import { reopenConversation, resolveConversation } from './lifecycle.ts';
import type { Conversation } from './schema.ts';
import { customerWaiting } from './waiting.ts';

/**
 * Whether a reply asks the customer something: a question mark ending a sentence (not one inside
 * a link's query, "https://…/?id=1"), or an opening "¿". Their thanks may then be the answer.
 */
export function asksSomething(text: string): boolean {
  return /[?？](?=$|[\s"'”»)\]!.,;:…])|¿/u.test(text);
}

/**
 * The conversation a message finds resolved by itself (thanksResolved), opened again by it in
 * the same write, as it was before the thanks resolved it: the episode the thanks began, so the
 * message joins it as it would have. Any other conversation as it is.
 */
export function reopenedByMessage(
  current: Conversation | null,
  message: Message,
  now: Date,
): Conversation | null {
  const marker = current?.thanksResolved;
  if (current?.status !== 'resolved' || !marker) return current;
  if (current.episodeMessageIds.includes(message.id)) return current;
  // A follow-up we wrote since (on the resolved conversation) answered the thanks' episode too.
  const answered =
    current.lastReplyAt !== null && Date.parse(current.lastReplyAt) >= Date.parse(marker.awaitingSince);
  return { ...reopenConversation(current, now, null), awaitingSince: answered ? null : marker.awaitingSince };
}

/**
 * How long after our answer a bare thanks is taken for thanks for it, when it opens a conversation
 * of its own (the agent resolved the answered one): a week. Customers thank within minutes, or
 * when the parcel or the fix arrives a few days later (over a weekend, a holiday); later than
 * that "Dziękuję!" may be about something we do not know of, and an agent had better see it.
 */
export const THANKS_AFTER_ANSWER_MS = 7 * 24 * 60 * 60_000;

/**
 * Whether thanks in a conversation we have not written in thank for our answer on the contact's
 * last one (the agent resolved it): that answer asked nothing, and came at most
 * THANKS_AFTER_ANSWER_MS before.
 */
function answeredBefore(context: InboundContext): boolean {
  const reply = context.endedReply;
  if (!reply || reply.asked) return false;
  const since = context.now.getTime() - Date.parse(reply.at);
  return since >= 0 && since <= THANKS_AFTER_ANSWER_MS;
}

/**
 * After `result` applied the customer's thanks: the conversation resolved in the same write when
 * nothing waits there. Only when our reply answered them in it (an agent's, or a person's from
 * the provider's inbox), or, in a conversation we have not written in (the thanks opened it, or
 * reopened the one a first thanks opened resolved), on the one the agent resolved before, within
 * THANKS_AFTER_ANSWER_MS (context.endedReply), and asked nothing (their "ok, dziękuję" may answer a question), nobody
 * waits for a person (no question of theirs since), no reply is on its way or reported undelivered
 * (the agent must see that), and nothing is to be sent. The contact keeps pointing at it: their next message reopens it (reopenedByMessage).
 * Idempotent: the thanks applied again is unchanged, and a conversation resolved stays so.
 */
export function resolvedAfterThanks(result: ApplyInboundResult, context: InboundContext): ApplyInboundResult {
  if (result.kind !== 'applied' || result.ackRequested || context.noAckReason !== 'thanks') return result;
  const conversation = result.conversation;
  // Ours in it, or (none: one a thanks opened, or a second thanks reopened) the one before.
  const answered =
    conversation.lastReplyAt !== null ? !conversationReplyAsked(conversation) : answeredBefore(context);
  if (
    !answered ||
    conversation.status !== 'open' ||
    conversation.awaitingSince === null ||
    customerWaiting(conversation) ||
    conversation.replyFailure !== undefined ||
    Object.keys(conversation.repliesInFlight ?? {}).length > 0 ||
    Object.keys(conversation.uncertainReplies ?? {}).length > 0
  )
    return result;
  const resolved = resolveConversation(conversation, context.now, null, 'thanks');
  return {
    ...result,
    conversation: { ...resolved, thanksResolved: { awaitingSince: conversation.awaitingSince } },
  };
}

/**
 * A conversation resolved by itself, as one resolved by anyone: its next message moves off it to
 * a conversation the contact opens (an agent reopened another of theirs: reopenPastResolved).
 * Any other conversation as it is.
 */
export function withoutThanksMarker(conversation: Conversation): Conversation {
  if (conversation.status !== 'resolved' || !conversation.thanksResolved) return conversation;
  const { thanksResolved: _marker, ...rest } = conversation;
  return rest;
}
