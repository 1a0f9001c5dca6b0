// Applying one stored customer message to its conversation (applyInbound): opening it, a new
// episode and its ack, or a message our last reply answered.

import { promisedNobody } from '../ack-policy.ts';
import { withEvent } from '../events.ts';
import type { Message } from '../message.ts';
import type { Ack } from './ack-schema.ts';
import { withConsent } from './consent.ts';
import type { ApplyInboundResult, InboundContext, NoAckReason } from './inbound-context.ts';
import { lastInboundAt, later } from './inbound-times.ts';
import { joinEpisode } from './join-episode.ts';
import { owingLookUp } from './look-ups.ts';
import { routeOf } from './route.ts';
import type { Conversation } from './schema.ts';
import { reopenedByMessage, resolvedAfterThanks, thanksOnResolved } from './thanks-resolve.ts';
import { customerWaiting } from './waiting.ts';

/** What `message.received` says about the message. */
function receivedData(message: Message): Record<string, unknown> {
  return { messageId: message.id, channel: message.channel, kind: message.kind };
}

/**
 * Whether a message given `reason` by the ack policy (null: acknowledged) is the customer's own,
 * to be answered: anything but one that promised nobody anything (their mailbox's out-of-office
 * reply, a list post, a keyword such as STOP or HELP). A question not acknowledged because of the
 * customer's situation (opted out, we had just written to them) still is one.
 */
export function isQuestion(reason: NoAckReason | null): boolean {
  return !promisedNobody(reason ?? undefined);
}

function union<T>(items: readonly T[], item: T): T[] {
  return items.includes(item) ? [...items] : [...items, item];
}

/** The conversation's language is settled: a later message in another language does not change it. */
export function localeSettled(conversation: Conversation): boolean {
  return conversation.localeDetected !== false;
}

/**
 * Whether our reply at `lastReplyAt` answered the message: it was received before the reply
 * and stored before it too, so the agent could read it. One received earlier but stored after
 * (a webhook the store could not take, recorded later by the worker) was seen by nobody: it is
 * still to be answered.
 */
export function answeredByReply(
  lastReplyAt: string | null,
  message: Message,
  inboxReply?: Conversation['lastInboxReply'],
): boolean {
  if (lastReplyAt === null) return false;
  const reply = Date.parse(lastReplyAt);
  const received = Date.parse(message.createdAt);
  if (received > reply) return false;
  if (Date.parse(message.recordedAt ?? message.createdAt) <= reply) return true;
  // Stored after the reply, but a person answered in the provider's inbox, where they read it.
  return inboxReply?.channel === message.channel && received <= Date.parse(inboxReply.at);
}

/**
 * Applies one stored customer message to its conversation (or opens the conversation).
 * Pure and idempotent: applying the same message twice changes nothing, and a message our
 * last reply answered never opens a new episode (it belonged to the one answered). A
 * conversation resolved by itself after the customer's thanks is opened again by their next
 * message, and one they only thank us in after our answer is resolved (thanks-resolve.ts).
 */
export function applyInbound(
  current: Conversation | null,
  message: Message,
  context: InboundContext,
): ApplyInboundResult {
  // (Not by one our last reply answered: received before it, it only announces itself.)
  const unanswered = current && !answeredByReply(current.lastReplyAt, message, current.lastInboxReply);
  // Their thanks again on a conversation their thanks resolved: joined, still resolved.
  const quiet = unanswered ? thanksOnResolved(current, message, context, applyToConversation) : null;
  if (quiet) return quiet;
  const reopened = unanswered ? reopenedByMessage(current, message, context.now) : current;
  const applied = applyToConversation(reopened, message, context);
  return resolvedAfterThanks(applied, context);
}

function applyToConversation(
  current: Conversation | null,
  message: Message,
  context: InboundContext,
): ApplyInboundResult {
  if (current?.episodeMessageIds.includes(message.id)) return { kind: 'unchanged', conversation: current };
  if (current && answeredByReply(current.lastReplyAt, message, current.lastInboxReply)) {
    // Received and stored before our last reply: that reply answers it (or this is a provider's
    // late retry of a message an earlier episode applied). No new episode and no ack, but
    // downstream tools still hear of it: a message stored just before a reply landed and applied
    // just after it must not go unannounced. The event's id is stable, so a retry's copy is dropped.
    // (One stored after the reply goes on below: it opens the next episode, its promise counted
    // from its receipt, as applyReply's episodeAfterReply does for one received during the send;
    // the ack policy's quiet time after the reply skips its ack.)
    const announced = withEvent(current, 'message.received', message.id, context.now, receivedData(message));
    return announced === current
      ? { kind: 'unchanged', conversation: current }
      : { kind: 'applied', conversation: announced, ackRequested: false, opened: false };
  }
  // Only a message never applied gets here: it must move to the contact's open conversation.
  if (current?.status === 'resolved') return { kind: 'closed', conversation: current };

  const base: Conversation = current ?? {
    id: context.newConversationId,
    status: 'open',
    contact: { key: message.contactKey, channels: [] },
    channel: message.channel,
    openedAt: message.createdAt,
    lastMessageAt: message.createdAt,
    replyBy: null,
    ack: null,
    notice: null,
    originalReplyBy: null,
    breachedEpisode: 0,
    outbox: [],
    assignee: null,
    locale: context.defaultLocale,
    localeDetected: false,
    route: routeOf(message),
    promise: null,
    episode: 0,
    awaitingSince: null,
    episodeMessageIds: [],
    lastReplyAt: null,
    inboundAt: {},
    version: 0,
  };
  const opened =
    current === null
      ? withEvent(base, 'conversation.opened', 'open', context.now, {
          contactKey: base.contact.key,
          channel: message.channel,
          // Why the opening message got no acknowledgement (null: it did): an auto-reply or a
          // keyword opening a conversation is not the customer coming back.
          noAckReason: context.noAckReason,
        })
      : base;
  const question = isQuestion(context.noAckReason);
  // The customer's first question in an episode only messages nobody is to answer began (their
  // thanks, an auto-reply, HELP): they wait from this question, not from the thanks the day
  // before (the first reply's working time, the late notice's timing).
  const startsWait = question && base.awaitingSince !== null && !customerWaiting(base);
  // The customer's first question in a conversation a message that promised nobody anything
  // opened (their own out-of-office reply to our answer): the customer coming (back) to us, as
  // `conversation.opened` tells for one a question opens (the service level's follow-ups).
  const firstQuestion = current !== null && question && base.lastQuestionAt === undefined;
  const received = withEvent(opened, 'message.received', message.id, context.now, {
    ...receivedData(message),
    ...(firstQuestion ? { firstQuestion: true, contactKey: base.contact.key } : {}),
  });
  // Answers go where the customer wrote last: a message older than one already applied (a
  // webhook recorded late by the worker, a provider's late retry) leaves the channel and route.
  const newest = Date.parse(message.createdAt) >= Date.parse(lastInboundAt(base) ?? message.createdAt);
  const touched: Conversation = {
    ...received,
    contact: {
      ...received.contact,
      ...(context.contactName ? { name: context.contactName } : {}),
      channels: union(base.contact.channels, message.channel),
    },
    channel: newest ? message.channel : base.channel,
    // The first message that clearly tells the language sets it, for the acks and notices to come.
    ...(context.detectedLocale && !localeSettled(base)
      ? { locale: context.detectedLocale, localeDetected: true }
      : {}),
    // A voicemail comes after its call: keep the call's route (the caller's number) for answers.
    route:
      !newest || (message.kind === 'voicemail' && base.route.channel === 'voice')
        ? base.route
        : routeOf(message),
    lastMessageAt: later(base.lastMessageAt, message.createdAt),
    ...(startsWait ? { awaitingSince: message.createdAt } : {}),
    inboundAt: {
      ...base.inboundAt,
      [message.channel]: later(base.inboundAt[message.channel] ?? message.createdAt, message.createdAt),
    },
    ...withInboundNoAck(base, message, context.noAckReason),
    ...(question
      ? {
          lastQuestionAt: later(base.lastQuestionAt ?? message.createdAt, message.createdAt),
          // The episode it joins, or the one it opens below.
          questionEpisode: base.awaitingSince !== null ? base.episode : base.episode + 1,
        }
      : {}),
    ...(message.recordedAt
      ? { lateRecordedAt: later(base.lateRecordedAt ?? message.recordedAt, message.recordedAt) }
      : {}),
  };

  if (touched.awaitingSince !== null) return joinEpisode(touched, message, context, current === null);

  const episode = touched.episode + 1;
  const requestedAt = context.now.toISOString();
  const ack: Ack =
    context.noAckReason !== null
      ? { state: 'skipped', episode, requestedAt, attempts: 0, reason: context.noAckReason }
      : context.spokenAck
        ? { state: 'sent', episode, requestedAt, attempts: 0, sentAt: requestedAt, reason: 'spoken-on-call' }
        : {
            state: 'pending',
            episode,
            requestedAt,
            attempts: 0,
            ...(context.holdAckUntil ? { retryAt: context.holdAckUntil } : {}),
            ...(context.ackAfter ? { after: context.ackAfter } : {}),
          };
  const withAck =
    ack.state === 'skipped'
      ? withEvent(touched, 'ack.skipped', String(episode), context.now, { episode, reason: ack.reason })
      : ack.state === 'sent'
        ? withEvent(touched, 'ack.sent', String(episode), context.now, { episode, spoken: true })
        : touched;
  return {
    kind: 'applied',
    conversation: {
      ...withConsent(owingLookUp(withAck, 'ack', context.now), message, context),
      episode,
      awaitingSince: message.createdAt,
      episodeMessageIds: [message.id],
      promise: context.promise,
      replyBy: context.promise.replyBy,
      originalReplyBy: null,
      ack,
    },
    ackRequested: ack.state === 'pending',
    opened: current === null,
  };
}

/** Reasons measured from our last reply or ack, which a reply applied later measures again. */
const QUIET_REASONS = new Set(['recently-answered', 'recently-acknowledged']);

/** The conversation's inboundNoAck once `message` is applied: changed only by its channel's latest message. */
function withInboundNoAck(
  base: Conversation,
  message: Message,
  reason: NoAckReason | null,
): Pick<Conversation, 'inboundNoAck'> {
  const latest = base.inboundAt[message.channel];
  if (latest && Date.parse(latest) > Date.parse(message.createdAt))
    return { inboundNoAck: base.inboundNoAck };
  const { [message.channel]: _previous, ...others } = base.inboundNoAck ?? {};
  const own = reason !== null && !QUIET_REASONS.has(reason) ? { [message.channel]: reason } : {};
  const reasons = { ...others, ...own };
  return { inboundNoAck: Object.keys(reasons).length > 0 ? reasons : undefined };
}
