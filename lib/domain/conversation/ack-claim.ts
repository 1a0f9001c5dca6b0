// A worker's side of an ack or late notice job before the send: its message id, the claim with
// its lease, retry timing and DLQ redrives, whether it is still needed, and its (re)queueing.

import { stableId } from '../ids.ts';
import type { Ack, Slot } from './ack-schema.ts';
import { waitsForChannel } from './channel-wait.ts';
import type { Conversation } from './schema.ts';

/** The id of an episode's acknowledgement (or late notice): one per episode, whoever sends it. */
export function ackMessageId(conversationId: string, episode: number, slot: Slot = 'ack'): string {
  return stableId('msg', `${slot}:${conversationId}:${episode}`);
}

/**
 * The id of the job's current try's message: the episode's (ackMessageId), or, for a resend after
 * the provider reported the sent one failed with a transient code (Ack.resends), its own: a message
 * of its own, tagged and aliased apart from the failed one.
 */
export function ackTryMessageId(
  conversationId: string,
  job: Pick<Ack, 'episode' | 'resends'>,
  slot: Slot = 'ack',
): string {
  return job.resends
    ? stableId('msg', `${slot}:${conversationId}:${job.episode}:resend:${job.resends}`)
    : ackMessageId(conversationId, job.episode, slot);
}

/**
 * After this long, every copy of a dead-lettered job the sweeper queued before it failed has
 * had its receives (5, 3 minutes apart): any later delivery is a redrive from the DLQ.
 */
export const REDRIVE_AFTER_MS = 15 * 60_000;

/**
 * When an ack ran out of retries and its job went to the DLQ: stored since stop 23, inferred
 * for one the previous release failed so (a transient reason, no time: long ago). Null for an
 * ack refused for good, or not failed.
 */
export function deadLetteredAt(job: Ack): number | null {
  if (job.state !== 'failed') return null;
  if (job.deadLetteredAt) return Date.parse(job.deadLetteredAt);
  const reason = job.reason ?? '';
  return reason.startsWith('SEND_FAILED') || reason === 'error' ? 0 : null;
}

/**
 * Whether a job for a dead-lettered ack is a redrive from the DLQ (tried again) rather than
 * another copy of its job still being retried by the queue (passed on to the DLQ): a first
 * delivery (SQS makes each redriven message new), or any delivery once the copies' receives
 * are over.
 */
export function isRedrive(job: Ack, now: Date, firstDelivery: boolean): boolean {
  const since = deadLetteredAt(job);
  return since !== null && (firstDelivery || now.getTime() - since >= REDRIVE_AFTER_MS);
}

export type ClaimResult =
  | { kind: 'claimed'; conversation: Conversation }
  | { kind: 'skip'; reason: 'stale' | 'done' | 'leased' | 'not-yet' };

const MINUTE = 60_000;
/**
 * The wait after each failed try of an ack or notice: 1, 2, 4, 8 minutes, plus up to 25 %
 * jitter (so the acks a provider's outage held back do not all go at once when it returns,
 * into its rate limit). With five tries, the last comes 15–19 minutes after the first: an
 * outage that long heals by itself; a longer one ends in the DLQ, its alarm and a redrive.
 */
const ACK_RETRY_DELAYS_MS: readonly number[] = [MINUTE, 2 * MINUTE, 4 * MINUTE, 8 * MINUTE];
const ACK_RETRY_JITTER = 0.25;
/** A worker whose clock runs this much behind the sweeper's still takes the job it queued. */
const RETRY_CLOCK_SKEW_MS = 5_000;

/** When the next try may go after the `attempts`-th failed one; `random` is in [0, 1). */
export function ackRetryAt(now: Date, attempts: number, random: number): Date {
  const base = ACK_RETRY_DELAYS_MS[Math.max(0, Math.min(attempts, ACK_RETRY_DELAYS_MS.length) - 1)] ?? MINUTE;
  return new Date(now.getTime() + Math.round(base * (1 + ACK_RETRY_JITTER * random)));
}

/**
 * A worker's claim on the episode's ack or notice (pending → sending with a lease). A lease
 * that ran out (the worker died) can be claimed again; a live one cannot.
 */
export function claimAck(
  conversation: Conversation,
  episode: number,
  now: Date,
  leaseMs: number,
  slot: Slot = 'ack',
  options: { firstDelivery?: boolean } = {},
): ClaimResult {
  const job = conversation[slot];
  if (!job || job.episode !== episode) return { kind: 'skip', reason: 'stale' };
  // A job redriven from the DLQ after the outage that ran out its retries: tried again, with a
  // fresh budget, while the customer still waits.
  const redrive =
    isRedrive(job, now, options.firstDelivery === true) && ackNoLongerNeeded(conversation, episode) === null;
  if (redrive) {
    const { deadLetteredAt: _dead, sequence, ...rest } = job;
    // A number on a failed job was left by a release before stop 34 (its event numbered after it).
    const reserved =
      sequence !== undefined && (job.state === 'sending' || job.state === 'pending') ? { sequence } : {};
    return {
      kind: 'claimed',
      conversation: reserveNumber(
        {
          ...conversation,
          [slot]: {
            ...rest,
            ...reserved,
            state: 'sending',
            attempts: 1,
            leaseUntil: new Date(now.getTime() + leaseMs).toISOString(),
          },
        },
        slot,
      ),
    };
  }
  if (job.state === 'sent' || job.state === 'skipped' || job.state === 'failed')
    return { kind: 'skip', reason: 'done' };
  if (job.state === 'sending' && job.leaseUntil && Date.parse(job.leaseUntil) > now.getTime()) {
    return { kind: 'skip', reason: 'leased' };
  }
  // Backing off after a failed try: the sweeper queues it again when it is time.
  if (
    job.state === 'pending' &&
    job.retryAt &&
    Date.parse(job.retryAt) - RETRY_CLOCK_SKEW_MS > now.getTime()
  ) {
    return { kind: 'skip', reason: 'not-yet' };
  }
  return {
    kind: 'claimed',
    conversation: reserveNumber(
      {
        ...conversation,
        [slot]: {
          ...job,
          state: 'sending',
          attempts: job.attempts + 1,
          leaseUntil: new Date(now.getTime() + leaseMs).toISOString(),
        },
      },
      slot,
    ),
  };
}

/**
 * The claimed job's event number, counted now (Ack.sequence): its `*.sent` is announced before
 * the write that settles it, and another writer (the customer's next message) may number events
 * in between; a number counted by the version the claim wrote is nobody else's. One already
 * reserved by an earlier claim is kept.
 */
function reserveNumber(conversation: Conversation, slot: Slot): Conversation {
  const job = conversation[slot];
  if (!job || job.sequence !== undefined) return conversation;
  const sequence = (conversation.eventSequence ?? 0) + 1;
  return { ...conversation, eventSequence: sequence, [slot]: { ...job, sequence } };
}

/** Why, at send time, the ack or notice should no longer go out (the episode ended meanwhile). */
export function ackNoLongerNeeded(conversation: Conversation, episode: number): string | null {
  if (conversation.status === 'resolved') return 'resolved';
  if (conversation.optedOut) return 'opted-out';
  if (conversation.episode !== episode || conversation.awaitingSince === null) return 'answered';
  return null;
}

/**
 * Records that a job for the pending ack or notice was (re)queued now. One that waited for its
 * channel's configuration (waitsForChannel) is queued only once its channel is no longer
 * switched off: it waits no more, and has a sweep time again should its worker die.
 */
export function markAckEnqueued(
  conversation: Conversation,
  episode: number,
  now: Date,
  slot: Slot = 'ack',
): Conversation {
  const job = conversation[slot];
  if (!job || job.episode !== episode) return conversation;
  const { reason, ...rest } = job;
  const kept = waitsForChannel(job) ? rest : job;
  return { ...conversation, [slot]: { ...kept, enqueuedAt: now.toISOString() } };
}
