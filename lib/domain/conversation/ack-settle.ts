// How an ack or late notice job ends: settled after a try (sent, skipped, failed, retried), a
// refused notice's promise undone, and the pending jobs an episode's end makes unneeded.

import { withEvent } from '../events.ts';
import { ackTryMessageId } from './ack-claim.ts';
import type { Ack, Slot, UncertainTry } from './ack-schema.ts';
import type { Conversation } from './schema.ts';

/**
 * The episode's pending ack and notice are no longer needed (a reply, a resolve, a STOP): each
 * skipped (`ack.skipped`), except one whose last try may have reached the customer (mayHaveGone):
 * it stays pending for its worker, whose claim finds the episode ended and only asks the
 * provider: the message it took is recorded as sent, else the job is skipped then. Skipping it
 * here would announce a skip for an ack the customer got, never on record.
 */
function endPendingJobs(conversation: Conversation, reason: string, at: Date): Conversation {
  let ended = conversation;
  for (const slot of ['ack', 'notice'] as const) {
    const job = ended[slot];
    if (job?.state === 'pending' && !mayHaveGone(job))
      ended = settleAck(ended, job.episode, { state: 'skipped', reason, at }, slot);
  }
  return ended;
}

/** Why a job waits whose provider reported taking its try but could not be read back (reportUnread). */
export const REPORT_UNREAD_REASON = 'LOOKUP_FAILED';

/**
 * Whether a job's last try may have reached the customer: its answer was lost (`uncertain`), or
 * the provider reported taking it and its read-back failed (REPORT_UNREAD_REASON without an
 * uncertain mark: the text is the provider's to tell). Looked up before it is skipped or dropped.
 */
export function mayHaveGone(job: Pick<Ack, 'uncertain' | 'reason'>): boolean {
  return job.uncertain !== undefined || job.reason === REPORT_UNREAD_REASON;
}

/** A try that ended uncertain, as the worker settles it: its start and text, and where it went. */
export type UncertainOutcome = Omit<UncertainTry, 'at'> & { at: Date };

/** How a try of an ack or notice ended, or what the episode's end made of it (settleAck). */
export type SettleOutcome =
  | { state: 'sent'; at: Date; messageId: string }
  | { state: 'skipped'; reason: string; at: Date }
  | {
      state: 'failed';
      reason: string;
      at: Date;
      deadLettered?: boolean;
      uncertain?: UncertainOutcome | undefined;
    }
  | {
      state: 'pending';
      reason: string;
      retryAt: Date;
      uncertain?: UncertainOutcome | undefined;
      /** The tries counted so far, when not the job's (a lookup its configuration kept from being made gives its try back). */
      attempts?: number;
    };

/**
 * Moves the episode's ack or notice to a final or retryable state; a no-op for another episode,
 * and a "sent" never overwrites a "failed" or a skip for the closed window (the provider's
 * status callback can land before the worker's own write, lib/use-cases/record-updates.ts).
 */
export function settleAck(
  conversation: Conversation,
  episode: number,
  outcome: SettleOutcome,
  slot: Slot = 'ack',
): Conversation {
  const job = conversation[slot];
  if (!job || job.episode !== episode) return conversation;
  const {
    leaseUntil: _lease,
    deadLetteredAt: _dead,
    retryAt: _retry,
    replaced,
    uncertain,
    sequence: kept,
    ...rest
  } = job;
  // Its claim's number, while the job waits for its outcome. One on a settled job was left there
  // by a release before stop 34 (its Ack keeps unknown fields) that numbered its event after it.
  const reserved = job.state === 'sending' || job.state === 'pending' ? kept : undefined;
  if (outcome.state === 'sent') {
    // The provider reported it undelivered, or refused for the closed window or the number's
    // opt-out (Twilio's 21610 in its status), before the worker got to mark it sent: that stands.
    // (No other skip comes while it is being sent but the claim's for an episode that ended,
    // which a send that did go out overrides.)
    const refused = job.reason === 'outside-window' || job.reason === 'opted-out';
    if (job.state === 'failed' || (job.state === 'skipped' && refused)) return conversation;
    // Its SMS reported as to a number that takes none (applyDelivery): the call's greeting is the ack.
    if (job.state === 'sent' && job.reason === 'spoken-on-call') return conversation;
    // The try the provider reported failed, whose resend is due (Ack.resends): its "sent" is not this one's.
    if (job.resends && outcome.messageId !== ackTryMessageId(conversation.id, job, slot)) return conversation;
    const sent: Conversation = {
      ...conversation,
      [slot]: {
        ...rest,
        ...(replaced ? { replaced } : {}),
        state: 'sent',
        sentAt: outcome.at.toISOString(),
        messageId: outcome.messageId,
        reason: undefined,
      },
    };
    const type = slot === 'ack' ? 'ack.sent' : 'notice.sent';
    // A resend is announced under its own id: the first try's was taken back by its ack.failed.
    const occurrence = job.resends ? `${episode}:resend:${job.resends}` : String(episode);
    return withEvent(sent, type, occurrence, outcome.at, { episode, messageId: outcome.messageId }, reserved);
  }
  // The latest try that may have gone (the one before it was looked for and not found, or it
  // would not have been sent); a try that surely did not go keeps the one before. A failed ack
  // keeps it too: a redrive from the DLQ asks the provider for it before sending (stop 25).
  const keptUncertain =
    outcome.state === 'skipped'
      ? undefined
      : outcome.uncertain
        ? { ...outcome.uncertain, at: outcome.uncertain.at.toISOString() }
        : uncertain;
  const settled: Conversation = {
    ...withRefusedNoticeUndone(conversation, job, episode),
    [slot]: {
      ...rest,
      state: outcome.state,
      reason: outcome.reason,
      ...('deadLettered' in outcome && outcome.deadLettered
        ? { deadLetteredAt: outcome.at.toISOString() }
        : {}),
      ...('retryAt' in outcome ? { retryAt: outcome.retryAt.toISOString() } : {}),
      ...(outcome.state === 'pending' && outcome.attempts !== undefined
        ? { attempts: outcome.attempts }
        : {}),
      ...(keptUncertain ? { uncertain: keptUncertain } : {}),
      // Waiting for another try: the number its claim reserved stays its own.
      ...(outcome.state === 'pending' && reserved !== undefined ? { sequence: reserved } : {}),
    },
  };
  if (outcome.state === 'pending') return settled;
  const type =
    slot === 'ack'
      ? outcome.state === 'failed'
        ? 'ack.failed'
        : 'ack.skipped'
      : outcome.state === 'failed'
        ? 'notice.failed'
        : 'notice.skipped';
  // One event per request settled, not per episode: an episode whose opening message was skipped
  // (HELP, an auto-reply) and whose late ack for the customer's question is then skipped too
  // (answered, resolved, the window closed) announces both, each under its own id. A retry of
  // the same write settles the same request, so its copy has the same id.
  // A notice's says which promise is in force: the one it stated is gone with it.
  const occurrence = `${episode}:${job.requestedAt}${job.resends ? `:resend:${job.resends}` : ''}`;
  return withEvent(
    settled,
    type,
    occurrence,
    outcome.at,
    {
      episode,
      reason: outcome.reason,
      ...(slot === 'notice' ? { replyBy: settled.replyBy } : {}),
      // Refused after it was marked sent (a status callback): it takes back the `*.sent` announced
      // then, at this time (the service level counts the notice out of the day it was sent).
      ...(job.state === 'sent' && job.sentAt ? { sentAt: job.sentAt } : {}),
    },
    reserved,
  );
}

/**
 * A late notice the provider refused after it was marked sent (its status: undelivered, or the
 * window closed, WhatsApp's 131047) told the customer nothing: the promise it stated goes, the
 * one they last heard is back in force (for the agents, the late notice to come and the
 * breach). Unless the episode moved on since, or something else stated a newer promise.
 */
function withRefusedNoticeUndone(conversation: Conversation, job: Ack, episode: number): Conversation {
  const { replaced } = job;
  if (job.state !== 'sent' || !replaced) return conversation;
  if (conversation.episode !== episode || conversation.replyBy !== replaced.stated) return conversation;
  return {
    ...conversation,
    promise: replaced.promise,
    replyBy: replaced.replyBy,
    originalReplyBy: replaced.originalReplyBy,
  };
}

/**
 * A call's ack whose SMS the provider refused for the caller's number (opted out at the
 * provider, a landline): the promise the greeting spoke is the ack (`spoken-on-call`), as when
 * no SMS may follow a call, measured, no late notice after it. A no-op for another episode or an
 * ack already settled.
 */
export function ackSpokenInstead(conversation: Conversation, episode: number, at: Date): Conversation {
  const job = conversation.ack;
  if (!job || job.episode !== episode || (job.state !== 'pending' && job.state !== 'sending'))
    return conversation;
  const {
    leaseUntil: _lease,
    retryAt: _retry,
    uncertain: _uncertain,
    deadLetteredAt: _dead,
    sequence: reserved,
    ...rest
  } = job;
  const spoken: Conversation = {
    ...conversation,
    ack: { ...rest, state: 'sent', sentAt: at.toISOString(), reason: 'spoken-on-call' },
  };
  return withEvent(spoken, 'ack.sent', String(episode), at, { episode, spoken: true }, reserved);
}

// Shared with the modules beside this one; ../conversation.ts does not re-export it.
export { endPendingJobs };
