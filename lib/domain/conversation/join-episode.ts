// A customer message joining the waiting episode: a late ack, a call's spoken promise, and the
// wait for the person's other key's queued ack.

import { acknowledgedLater } from '../ack-policy.ts';
import { withEvent } from '../events.ts';
import type { Message } from '../message.ts';
import { bouncedReason } from '../opt-out.ts';
import type { Ack } from './ack-schema.ts';
import { withConsent } from './consent.ts';
import type { ApplyInboundResult, InboundContext } from './inbound-context.ts';
import { owingLookUp } from './look-ups.ts';
import { markBreached, movePromise } from './promise-timing.ts';
import { type Conversation, MAX_EPISODE_MESSAGE_IDS } from './schema.ts';

/**
 * A message joining a waiting episode: silently, unless the episode's ack was skipped for the
 * message that began it (a list post, an auto-reply, HELP) or by a STOP a START has since
 * undone. Then the customer's own question is acknowledged late, once, and the promise of its
 * receipt becomes the episode's (nobody heard the first); a question not acknowledged only
 * because we just wrote to them takes the episode over, its reason and its promise, so the
 * quiet-only notice and the breach treat it as the question it is. A call past the promise
 * moves it to the one the greeting speaks, counting the broken one.
 */
function joinEpisode(
  touched: Conversation,
  message: Message,
  context: InboundContext,
  opened: boolean,
): ApplyInboundResult {
  const consented = withConsent(touched, message, context);
  const joined: Conversation = waitingForLinkedAck(
    {
      ...(message.kind === 'call' ? heardOnCall(consented, context) : consented),
      episodeMessageIds: [...touched.episodeMessageIds, message.id].slice(-MAX_EPISODE_MESSAGE_IDS),
    },
    context.ackAfter,
  );
  const { ack } = touched;
  const skippedFor = ack?.episode === touched.episode && ack.state === 'skipped' ? ack.reason : undefined;
  const forMessage = acknowledgedLater(skippedFor);
  const ownPromise = { promise: context.promise, replyBy: context.promise.replyBy, originalReplyBy: null };
  const optedBackIn = skippedFor === 'opted-out' && touched.optedOut === false;
  // A call from a customer who opted out of our texts: its greeting spoke the promise, so the
  // episode (which promised nothing until then) has its ack, as spoken.
  const calledAfterOptOut = skippedFor === 'opted-out' && context.spokenAck === true;
  // START from a customer whose question waits unacknowledged, as they had opted out (asked
  // while opted out, or STOP before the worker sent its ack): told once, now that we may text
  // them, when they will hear back. Only the latest word opts in (withConsent); a replay or a
  // second START finds them opted in already, or the ack no longer skipped.
  const startedWaiting =
    context.consent === 'opt-in' &&
    touched.optedOut !== false &&
    consented.optedOut === false &&
    (skippedFor === 'opted-out' || forMessage) &&
    touched.questionEpisode === touched.episode;
  // Their own mail lifting the bounce (bounceLiftedBy) while this episode's ack is the mail that
  // bounced: they were never told when they will hear back. Told once, under a message id of its
  // own (Ack.resends); a replay or a second mail finds them opted in, or the ack no longer failed.
  const bounceLifted =
    context.consent === 'opt-in' &&
    touched.optedOut === true &&
    consented.optedOut === false &&
    ack?.episode === touched.episode &&
    ack.state === 'failed' &&
    bouncedReason(ack.reason) &&
    touched.questionEpisode === touched.episode;
  const askedAgain = context.noAckReason === null && (forMessage || optedBackIn || calledAfterOptOut);
  if (ack && (askedAgain || startedWaiting || bounceLifted)) {
    const requestedAt = context.now.toISOString();
    const resends = bounceLifted ? { resends: (ack.resends ?? 0) + 1 } : {};
    const job = { episode: touched.episode, requestedAt, attempts: 0, ...resends };
    // A call whose number takes no SMS: the greeting spoke the promise, as for a first call.
    if (context.spokenAck) {
      const spoken: Conversation = {
        ...joined,
        ...ownPromise,
        ack: { ...job, state: 'sent', sentAt: requestedAt, reason: 'spoken-on-call' },
      };
      const conversation = withEvent(spoken, 'ack.sent', String(touched.episode), context.now, {
        episode: touched.episode,
        spoken: true,
      });
      return { kind: 'applied', conversation, ackRequested: false, opened };
    }
    const held = context.holdAckUntil ? { retryAt: context.holdAckUntil } : {};
    const after = context.ackAfter ? { after: context.ackAfter } : {};
    const conversation: Conversation = {
      ...joined,
      ...ownPromise,
      ack: { ...job, ...held, ...after, state: 'pending' },
    };
    return { kind: 'applied', conversation, ackRequested: true, opened };
  }
  const { noAckReason } = context;
  if (ack && forMessage && (noAckReason === 'recently-answered' || noAckReason === 'recently-acknowledged')) {
    const conversation: Conversation = { ...joined, ...ownPromise, ack: { ...ack, reason: noAckReason } };
    return { kind: 'applied', conversation, ackRequested: false, opened };
  }
  // A caller still waiting past the promise hears a new one in the greeting (never a time gone
  // by): it becomes the episode's, as a late notice's would; the first is kept for measuring,
  // and the broken one is counted in the same write (the sweeper would no longer see it).
  if (message.kind === 'call' && touched.replyBy && Date.parse(touched.replyBy) <= context.now.getTime()) {
    const conversation = movePromise(markBreached(joined, context.now), context.promise);
    return { kind: 'applied', conversation, ackRequested: false, opened };
  }
  return { kind: 'applied', conversation: joined, ackRequested: false, opened };
}

/**
 * The episode's ack still queued (pending, not yet taken by a worker) when a message that links
 * the person's two keys joins the episode: it waits for the other key's queued ack (`after`),
 * as a new one would, so that one of the two goes. Unchanged when it already waits for one, or
 * is being sent (that window stays: both may go).
 */
export function waitingForLinkedAck(conversation: Conversation, after: Ack['after']): Conversation {
  const { ack } = conversation;
  if (!after || after.conversationId === conversation.id) return conversation;
  if (ack?.episode !== conversation.episode || ack.state !== 'pending' || ack.after) return conversation;
  return { ...conversation, ack: { ...ack, after } };
}

/**
 * A call joining the waiting episode: its greeting speaks the promise in force, so that is the
 * time the customer last heard. A late notice sent before it can no longer be undone
 * (withRefusedNoticeUndone): a refusal of its SMS that comes after the call must not bring back
 * the earlier time the caller was told to forget (found at stop 25). An ack still pending, where
 * no SMS may follow the call (ackSpokenOnly: a landline, no number, `voiceSms`), was spoken
 * then: the worker would text it to the caller's number, which takes none (the route is now
 * the call's).
 */
function heardOnCall(conversation: Conversation, context: InboundContext): Conversation {
  const { notice, ack, episode } = conversation;
  let heard = conversation;
  if (notice?.episode === episode && notice.replaced) {
    const { replaced: _replaced, ...kept } = notice;
    heard = { ...heard, notice: kept };
  }
  if (
    context.spokenAck &&
    context.noAckReason === null &&
    ack?.episode === episode &&
    ack.state === 'pending'
  ) {
    const at = context.now.toISOString();
    const { sequence, ...unnumbered } = ack;
    const { retryAt: _retry, uncertain: _uncertain, reason: _reason, ...kept } = unnumbered;
    // Its last try may have reached the customer all the same: still looked up (lookUps), its
    // finding announcing nothing (the ack is sent), so the number its claim reserved is this one's.
    heard = withEvent(
      {
        ...owingLookUp({ ...heard, ack: unnumbered }, 'ack', context.now),
        ack: { ...kept, state: 'sent', sentAt: at, reason: 'spoken-on-call' },
      },
      'ack.sent',
      String(episode),
      context.now,
      { episode, spoken: true },
      sequence,
    );
  }
  return heard;
}

// Shared with the modules beside this one; ../conversation.ts does not re-export it.
export { joinEpisode };
