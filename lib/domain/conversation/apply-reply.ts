// Our reply reaching the customer (applyReply): the waiting episode ends, and a customer message
// newer than the reply opens the next one.

import { acknowledgedLater } from '../ack-policy.ts';
import type { Channel } from '../channel.ts';
import { withEvent } from '../events.ts';
import type { ReplyPromise } from '../promise.ts';
import type { Ack } from './ack-schema.ts';
import { endPendingJobs } from './ack-settle.ts';
import { later } from './inbound-times.ts';
import { owingLookUp } from './look-ups.ts';
import type { Conversation } from './schema.ts';

/**
 * What applying a reply needs to start the episode of a customer message newer than it (one
 * received while the reply was on its way to the provider): the promise for that message, and
 * the ack policy's quiet time after a reply.
 */
export type ReplyContext = {
  /** The promise for a customer message received at `receivedAt` on `channel` (computePromise). */
  promiseFor: (receivedAt: Date, channel: Channel) => ReplyPromise;
  /** No acknowledgement for a message this soon after a reply (quietMinutesAfterReply). */
  quietAfterReplyMs: number;
};

/**
 * Our reply reached the customer (an agent's answer, or a person writing from the provider's
 * own inbox): the waiting episode ends, the first reply is measured, and a pending ack is no
 * longer needed (`ack.skipped`, answered). A customer message newer than the reply (it came
 * while the reply was being sent, and was applied first) was not answered by it: it opens the
 * next episode, as it would have had it been applied after the reply. Idempotent for the same
 * moment.
 */
export function applyReply(conversation: Conversation, at: Date, context: ReplyContext): Conversation {
  const iso = at.toISOString();
  if (conversation.lastReplyAt && Date.parse(conversation.lastReplyAt) >= at.getTime()) return conversation;
  // A reply written before the waiting episode began cannot have answered it (the race of a
  // reply and a new message): it is measured, but the customer still waits.
  if (conversation.awaitingSince && Date.parse(conversation.awaitingSince) > at.getTime()) {
    return { ...conversation, lastReplyAt: iso, firstReplyAt: conversation.firstReplyAt ?? iso };
  }
  let answered: Conversation = {
    ...conversation,
    awaitingSince: null,
    lastReplyAt: iso,
    lastMessageAt: later(conversation.lastMessageAt, iso),
    firstReplyAt: conversation.firstReplyAt ?? iso,
  };
  answered = endPendingJobs(answered, 'answered', at);
  const newer =
    conversation.awaitingSince !== null && conversation.status === 'open' && inboundAfter(conversation, at);
  return newer ? episodeAfterReply(answered, newer, at, context) : answered;
}

/**
 * The customer's earliest latest-per-channel message after `at`, or null. The conversation keeps
 * only each channel's latest receipt time: two messages on one channel during a reply's send
 * start the new episode at the later one (seconds apart).
 */
function inboundAfter(conversation: Conversation, at: Date): { channel: Channel; at: string } | null {
  let first: { channel: Channel; at: string } | null = null;
  for (const [channel, received] of Object.entries(conversation.inboundAt) as Array<[Channel, string]>) {
    if (Date.parse(received) > at.getTime() && (!first || Date.parse(received) < Date.parse(first.at)))
      first = { channel, at: received };
  }
  return first;
}

/**
 * The episode a customer message newer than the reply opens: its own promise, a late notice
 * and a breach like any; acknowledged only as the policy would have acknowledged it then (not
 * after a STOP, not a message not to be answered such as HELP or an auto-reply, which then
 * promised nobody anything, nor within the quiet time after a reply). A pending ack is queued
 * by the sweeper after its grace period (the reply's writer holds no queue).
 */
function episodeAfterReply(
  answered: Conversation,
  newer: { channel: Channel; at: string },
  replyAt: Date,
  context: ReplyContext,
): Conversation {
  const episode = answered.episode + 1;
  const promise = context.promiseFor(new Date(newer.at), newer.channel);
  const quiet = Date.parse(newer.at) - replyAt.getTime() < context.quietAfterReplyMs;
  // A question received after the reply is in the episode it opens, not the one it answered.
  const asked =
    answered.lastQuestionAt !== undefined && Date.parse(answered.lastQuestionAt) > replyAt.getTime();
  // The channel's latest message's own reason (thanks, HELP, an auto-reply) speaks for the
  // episode only when no question of the customer's came after the reply: "A czy mogę zmienić
  // adres?" then "Dziękuję!" is a question waiting, as applied after the reply it would be.
  const latest = answered.inboundNoAck?.[newer.channel] ?? null;
  const own = latest !== null && asked && acknowledgedLater(latest) ? null : latest;
  const reason = answered.optedOut ? 'opted-out' : (own ?? (quiet ? 'recently-answered' : null));
  const job = { episode, requestedAt: newer.at, attempts: 0 };
  const ack: Ack = reason ? { ...job, state: 'skipped', reason } : { ...job, state: 'pending' };
  const announced = reason
    ? withEvent(answered, 'ack.skipped', String(episode), replyAt, { episode, reason })
    : answered;
  return {
    // The ended episode's ack, its last try uncertain, keeps its lookup (as applyInbound's).
    ...owingLookUp(announced, 'ack', replyAt),
    ...(asked ? { questionEpisode: episode } : {}),
    episode,
    awaitingSince: newer.at,
    promise,
    replyBy: promise.replyBy,
    originalReplyBy: null,
    ack,
  };
}
