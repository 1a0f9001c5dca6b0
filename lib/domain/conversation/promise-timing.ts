// The episode's promise over time: a new one stated by an automatic message, the late notice
// and the breach falling due, and the promise moved.

import { withEvent } from '../events.ts';
import type { NoticeTiming, ReplyPromise } from '../promise.ts';
import type { Slot } from './ack-schema.ts';
import { owingLookUp } from './look-ups.ts';
import type { Conversation } from './schema.ts';
import { promiseOwed } from './waiting.ts';

/**
 * The automatic message in `slot`, just marked sent, stated `promise` (a late notice always,
 * an ack held up past its promise): it becomes the episode's (movePromise). A notice keeps
 * what it replaced, for a refusal that comes after (withRefusedNoticeUndone); a retry of the
 * same write keeps the first record.
 */
export function stateNewPromise(
  conversation: Conversation,
  slot: Slot,
  promise: ReplyPromise | undefined,
): Conversation {
  if (!promise) return conversation;
  const moved = movePromise(conversation, promise);
  const job = conversation[slot];
  if (slot !== 'notice' || !job || job.state !== 'sent' || job.replaced?.stated === promise.replyBy)
    return moved;
  const replaced = {
    promise: conversation.promise,
    replyBy: conversation.replyBy,
    originalReplyBy: conversation.originalReplyBy,
    stated: promise.replyBy,
  };
  return { ...moved, [slot]: { ...job, replaced } };
}

/**
 * The ack just marked sent was signed as `signed` says (the episode's promise signed by the
 * promised person as listed now, or the default person: signedNow): the promise names who
 * signed, for the measure and for a reply without an agent name. Unless the promise moved on
 * since (a call past it).
 */
export function stateSigner(conversation: Conversation, signed: ReplyPromise): Conversation {
  const { promise } = conversation;
  if (!promise || promise.replyBy !== signed.replyBy) return conversation;
  return { ...conversation, promise: { ...promise, signer: signed.signer } };
}

/**
 * The late notice is due shortly before the promised time of an episode that was acknowledged
 * and is still waiting, once per episode: as `timing` says (the business's `noticeSchedule`
 * counts its lead in working time; a number is a plain lead before the promise).
 */
export function noticeDueAt(conversation: Conversation, timing: NoticeTiming): string | null {
  const { ack, notice, replyBy } = conversation;
  if (conversation.status !== 'open' || conversation.awaitingSince === null || !replyBy) return null;
  if (conversation.optedOut) return null;
  if (!ack || ack.episode !== conversation.episode) return null;
  // No notice where no message may go (opted out, auto-replies, closed window…); but a customer
  // not acknowledged only because we had just written to them still hears before the promise.
  const quietOnly =
    ack.state === 'skipped' && (ack.reason === 'recently-answered' || ack.reason === 'recently-acknowledged');
  if (ack.state !== 'sent' && !quietOnly) return null;
  // Spoken on the call because the caller's number takes no SMS: a notice could not go either.
  if (ack.reason === 'spoken-on-call') return null;
  if (notice && notice.episode === conversation.episode) return null;
  if (typeof timing === 'number') return new Date(Date.parse(replyBy) - timing).toISOString();
  const { promise } = conversation;
  return timing({
    replyBy,
    since: conversation.awaitingSince,
    // The stored promise says whether the team was away, when it is the one in force.
    teamAwayUntil: promise?.replyBy === replyBy ? promise.teamAwayUntil : null,
  });
}

/** When the current episode's promise passes unanswered (null: answered, or already counted). */
export function breachDueAt(conversation: Conversation): string | null {
  if (conversation.status !== 'open' || conversation.awaitingSince === null || !conversation.replyBy)
    return null;
  if (conversation.breachedEpisode >= conversation.episode) return null;
  if (!promiseOwed(conversation)) return null;
  return new Date(Date.parse(conversation.replyBy)).toISOString();
}

/**
 * Records that the current episode's promise was broken (once per episode): a no-op unless it
 * has passed, as the conversation stands now (the sweeper read it a moment ago; a reply and a
 * new message since start an episode whose promise lies ahead).
 */
export function markBreached(conversation: Conversation, now: Date): Conversation {
  const due = breachDueAt(conversation);
  if (due === null || Date.parse(due) > now.getTime()) return conversation;
  return withEvent(
    { ...conversation, breachedEpisode: conversation.episode },
    'promise.breached',
    String(conversation.episode),
    now,
    { episode: conversation.episode, replyBy: conversation.replyBy },
  );
}

/**
 * Makes the episode's late notice pending: a no-op unless it is due, as the conversation stands
 * now (once per episode; never for an episode that began after the sweeper read it).
 */
export function requestNotice(conversation: Conversation, now: Date, timing: NoticeTiming): Conversation {
  const due = noticeDueAt(conversation, timing);
  if (due === null || Date.parse(due) > now.getTime()) return conversation;
  return {
    ...owingLookUp(conversation, 'notice', now),
    notice: { state: 'pending', episode: conversation.episode, requestedAt: now.toISOString(), attempts: 0 },
  };
}

/** The notice went out with a new promise: keep the first one for measuring, state the new one. */
export function movePromise(conversation: Conversation, promise: Conversation['promise']): Conversation {
  if (!promise) return conversation;
  return {
    ...conversation,
    originalReplyBy: conversation.originalReplyBy ?? conversation.replyBy,
    promise,
    replyBy: promise.replyBy,
  };
}
