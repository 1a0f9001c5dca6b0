// A conversation that resolves itself: after our answer, the customer only thanked us.

import { consentOf } from '../keywords.ts';
import type { Message } from '../message.ts';
import { editOnlyThanks } from '../thanks.ts';
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
 * The customer's thanks again (`thanks`), or another message that asks nobody anything (their
 * STOP, their mailbox's out-of-office reply, an edit that still only thanks: asksNothing), on a conversation their thanks resolved by itself (one
 * our answer was in, or one born resolved after the answer the agent resolved): it joins it as it
 * would have joined it open (the thanks' episode, or a new one after a follow-up of ours), and the
 * conversation stays resolved, in the same write: no conversation.reopened and
 * conversation.resolved for nothing (downstream tools, the service level's first-contact
 * resolution), its resolvedAt kept and the marker renewed. Null where that cannot hold (then it is
 * reopened as by any message, reopenedByMessage, and resolved again by resolvedAfterThanks if
 * nothing waits and it is thanks): a question, one it already has, a result that waits for
 * someone or has something to send, or one whose thanks would no longer resolve it (our latest
 * reply there asked something).
 */
export function thanksOnResolved(
  current: Conversation | null,
  message: Message,
  context: InboundContext,
  apply: (open: Conversation, message: Message, context: InboundContext) => ApplyInboundResult,
): ApplyInboundResult | null {
  const marker = current?.thanksResolved;
  if (current?.status !== 'resolved' || !marker) return null;
  // (Before stop 34 thanks alone: a STOP or an out-of-office reopened it, "no reply needed".)
  if (!asksNothing(message, context)) return null;
  if (current.episodeMessageIds.includes(message.id)) return null;
  const { resolvedAt, thanksResolved: _marker, ...rest } = current;
  const open: Conversation = { ...rest, status: 'open', awaitingSince: episodeReopened(current, marker) };
  const result = apply(open, message, context);
  if (result.kind !== 'applied' || !nothingWaits(result, context)) return null;
  const joined = result.conversation;
  const pending = (['ack', 'notice'] as const).some((slot) => {
    const state = joined[slot]?.state;
    return state === 'pending' || state === 'sending';
  });
  if (pending || joined.awaitingSince === null) return null;
  return {
    ...result,
    conversation: {
      ...joined,
      status: 'resolved',
      ...(resolvedAt ? { resolvedAt } : {}),
      awaitingSince: null,
      thanksResolved: { awaitingSince: joined.awaitingSince },
    },
  };
}

// What a mailbox sends by itself (an out-of-office reply, a bounce): never a person's question.
// Not every reason that holds back an ack: a shared mailbox's list headers, a spam verdict, a
// system-looking sender, another page or number, HELP may all carry the customer's question.
const SENT_BY_ITSELF = new Set([
  'auto-submitted',
  'auto-response-suppress',
  'x-autoreply',
  'x-autorespond',
  'precedence-auto_reply',
  'auto-reply-subject',
  'delivery-report',
  'null-return-path',
]);

const KEYWORD_REASON = 'keyword:';

/**
 * Whether the customer's message asks nobody anything: thanks again, their STOP, what their
 * mailbox sent by itself, an edit only when it still only thanks (one of their question, made
 * after the answer, corrects what the agent answered, and the agent had better see it).
 */
function asksNothing(message: Message, context: InboundContext): boolean {
  const reason = context.noAckReason ?? '';
  if (reason === 'thanks' || SENT_BY_ITSELF.has(reason) || context.consent === 'opt-out') return true;
  if (reason.startsWith(KEYWORD_REASON))
    return consentOf(reason.slice(KEYWORD_REASON.length).toUpperCase()) === 'opt-out';
  return reason === 'edited' && editOnlyThanks(message.text, message.media.length, context.contactName);
}

/**
 * The episode a conversation resolved by itself is opened again in: the one the thanks began,
 * unless a follow-up we wrote since (on the resolved conversation) answered it too.
 */
function episodeReopened(current: Conversation, marker: { awaitingSince: string }): string | null {
  const answered =
    current.lastReplyAt !== null && Date.parse(current.lastReplyAt) >= Date.parse(marker.awaitingSince);
  return answered ? null : marker.awaitingSince;
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
  return { ...reopenConversation(current, now, null), awaitingSince: episodeReopened(current, marker) };
}

/**
 * A conversation the customer's thanks resolved (thanksResolved), whose answer they thanked for
 * (our reply stored at `sentAt`: before the thanks, and our latest there, or there is none, when
 * the thanks were born resolved after the answer the agent resolved) the provider now reports
 * undelivered or failed: the thanks cannot be for it (the ack's, perhaps). Opened again in the
 * report's write (conversation.reopened, agent null) as it would have stayed had the report come
 * first: the thanks' episode, under no reply needed. The marker goes with the reopen, so a
 * redelivered report finds it open and changes nothing. Any other conversation as it is: one an
 * agent resolved (a person decided it was done, and reply.failed tells them), one open, one whose
 * thanks came before the reply (a follow-up of ours after them).
 */
export function reopenedByFailure(conversation: Conversation, sentAt: string, now: Date): Conversation {
  const marker = conversation.thanksResolved;
  if (conversation.status !== 'resolved' || !marker) return conversation;
  const sent = Date.parse(sentAt);
  const latest = conversation.lastReplyAt === null || Date.parse(conversation.lastReplyAt) <= sent;
  if (!latest || sent > Date.parse(marker.awaitingSince)) return conversation;
  return { ...reopenConversation(conversation, now, null), awaitingSince: marker.awaitingSince };
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
 * joins the one a first thanks opened resolved: thanksOnResolved), on the one the agent resolved before, within
 * THANKS_AFTER_ANSWER_MS (context.endedReply), and asked nothing (their "ok, dziękuję" may answer a question), nobody
 * waits for a person (no question of theirs since), no reply is on its way or reported undelivered
 * (the agent must see that), and nothing is to be sent. The contact keeps pointing at it: their next message reopens it (reopenedByMessage),
 * their thanks again joins it resolved (thanksOnResolved).
 * Idempotent: the thanks applied again is unchanged, and a conversation resolved stays so.
 */
export function resolvedAfterThanks(result: ApplyInboundResult, context: InboundContext): ApplyInboundResult {
  if (result.kind !== 'applied' || context.noAckReason !== 'thanks' || !nothingWaits(result, context))
    return result;
  const conversation = result.conversation;
  const since = conversation.awaitingSince;
  if (since === null) return result;
  const resolved = resolveConversation(conversation, context.now, null, 'thanks');
  return { ...result, conversation: { ...resolved, thanksResolved: { awaitingSince: since } } };
}

/**
 * After the customer's thanks (`result`): nothing waits there (resolvedAfterThanks's conditions,
 * thanksOnResolved's too).
 */
function nothingWaits(
  result: Extract<ApplyInboundResult, { kind: 'applied' }>,
  context: InboundContext,
): boolean {
  const conversation = result.conversation;
  // Ours in it, or (none: one a thanks opened, or a later thanks joined) the one before.
  const answered =
    conversation.lastReplyAt !== null ? !conversationReplyAsked(conversation) : answeredBefore(context);
  return !(
    !answered ||
    result.ackRequested ||
    conversation.status !== 'open' ||
    conversation.awaitingSince === null ||
    customerWaiting(conversation) ||
    conversation.replyFailure !== undefined ||
    Object.keys(conversation.repliesInFlight ?? {}).length > 0 ||
    Object.keys(conversation.uncertainReplies ?? {}).length > 0
  );
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
