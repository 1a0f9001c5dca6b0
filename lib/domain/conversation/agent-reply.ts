// An agent's reply recorded (applyAgentReply), and one the provider reported failed (replyFailed).

import { withEvent } from '../events.ts';
import { applyReply, type ReplyContext } from './apply-reply.ts';
import { withReplyApplied } from './replies-applied.ts';
import { replyLanded, withoutUncertainReply } from './replies-in-flight.ts';
import type { Conversation } from './schema.ts';
import { promiseOwed } from './waiting.ts';

/**
 * An agent's reply the provider reports undelivered or failed (Twilio 30003, a blocked number…):
 * announced as `reply.failed` (once per reply) and kept on the conversation (`replyFailure`) for
 * the agents' tool. The customer is not counted as waiting again: they wrote nothing new, a late
 * notice would go the way the reply could not, and the service level measured the reply a
 * person did send; the person who sent it hears of it and answers another way.
 */
export function replyFailed(
  conversation: Conversation,
  failure: {
    messageId: string;
    /** The failed reply's stored time (its message's createdAt). */
    sentAt: string;
    status: 'undelivered' | 'failed';
    errorCode?: string | undefined;
    /** The provider's code says a later try may go: the agent may send it again. */
    retryable?: boolean;
    at: Date;
  },
): Conversation {
  const known = conversation.replyFailure;
  if (known?.messageId === failure.messageId && known.status === failure.status) return conversation;
  const sent = Date.parse(failure.sentAt);
  // Shown only while it is the news: not when a later reply was recorded since (it went where
  // this one did not), nor over a later reply's failure. Announced all the same: it did fail.
  const older =
    (!!conversation.lastReplyAt && sent < Date.parse(conversation.lastReplyAt)) ||
    (known !== undefined && known.messageId !== failure.messageId && sent < Date.parse(known.sentAt ?? ''));
  const next: Conversation = older
    ? conversation
    : {
        ...conversation,
        replyFailure: {
          messageId: failure.messageId,
          status: failure.status,
          ...(failure.errorCode ? { errorCode: failure.errorCode } : {}),
          ...(failure.retryable ? { retryable: true } : {}),
          at: failure.at.toISOString(),
          sentAt: failure.sentAt,
        },
      };
  return withEvent(next, 'reply.failed', failure.messageId, failure.at, {
    messageId: failure.messageId,
    status: failure.status,
    errorCode: failure.errorCode ?? null,
    ...(failure.retryable ? { retryable: true } : {}),
  });
}

/** An agent's reply, recorded: the episode ends (as for any reply) and downstream tools hear of it. */
export function applyAgentReply(
  conversation: Conversation,
  reply: {
    messageId: string;
    at: Date;
    agent: string | null;
    /**
     * Written in the provider's own inbox (an echo), where the person read the customer's
     * messages; never an API reply, even one whose key names no agent.
     */
    inbox?: boolean;
    channel: Conversation['channel'];
    /** The WhatsApp template it went as, after the 24-hour window (its name, or Twilio's ContentSid). */
    template?: string;
    /** It asks the customer something (asksSomething): their thanks may answer it. Absent: taken as asked. */
    asked?: boolean;
  },
  context: ReplyContext,
): Conversation {
  // Applied already (its report and its retry, or an echo's redelivery, meeting): nothing again.
  if (conversation.appliedReplies && Object.hasOwn(conversation.appliedReplies.ids, reply.messageId))
    return conversation;
  const wasAwaiting = conversation.awaitingSince;
  const applied = applyReply(
    withoutUncertainReply(
      replyLanded(withoutOlderFailure(conversation, reply.at), reply.messageId),
      reply.messageId,
    ),
    reply.at,
    context,
  );
  // Written in the provider's inbox (no agent of ours): what that person read there is answered.
  const inbox = applied.lastInboxReply;
  // The latest reply that asked nothing, when this reply is the latest and asks nothing (an older
  // one applied late is not the latest; one that asks leaves an earlier time, no longer the latest).
  const latest =
    applied.lastReplyAt === reply.at.toISOString() && reply.asked === false
      ? { lastPlainReplyAt: applied.lastReplyAt }
      : {};
  const replied = withReplyApplied(
    reply.inbox && (!inbox || Date.parse(inbox.at) < reply.at.getTime())
      ? { ...applied, ...latest, lastInboxReply: { at: reply.at.toISOString(), channel: reply.channel } }
      : { ...applied, ...latest },
    conversation,
    reply.messageId,
    reply.at,
  );
  return withEvent(replied, 'reply.sent', reply.messageId, reply.at, {
    messageId: reply.messageId,
    channel: reply.channel,
    // The conversation's own channel, whose promise this reply answers (a caller is answered
    // by SMS; the service level counts the answer under voice).
    conversationChannel: conversation.channel,
    agent: reply.agent,
    episode: conversation.episode,
    awaitingSince: wasAwaiting,
    replyBy: conversation.replyBy,
    originalReplyBy: conversation.originalReplyBy ?? conversation.replyBy,
    // false: the episode was promised nothing (HELP, an auto-reply…): no promise kept or broken.
    promised: promiseOwed(conversation),
    // (a message newer than the reply waits in the next episode: this one was answered)
    answeredEpisode:
      wasAwaiting !== null && (replied.awaitingSince === null || replied.episode > conversation.episode),
    firstReply: conversation.firstReplyAt === undefined,
    ...(reply.template ? { template: reply.template } : {}),
  });
}

/**
 * A newer reply goes where the failed one did not: its failure is no longer the news. A failure
 * reported for this very reply (or a later one) before this write stays.
 */
function withoutOlderFailure(conversation: Conversation, at: Date): Conversation {
  const failure = conversation.replyFailure;
  if (!failure || Date.parse(failure.sentAt ?? '') >= at.getTime()) return conversation;
  const { replyFailure: _failed, ...rest } = conversation;
  return rest;
}
