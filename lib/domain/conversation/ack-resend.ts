// An ack or late notice the provider reported failed with a transient code, shortly after it went: sent again.

import { ackNoLongerNeeded } from './ack-claim.ts';
import type { Slot } from './ack-schema.ts';
import { settleAck } from './ack-settle.ts';
import type { Conversation } from './schema.ts';

/** How many times an ack or notice is sent again after failed statuses: bounded, a passing outage's worth. */
export const MAX_RESENDS = 2;

/** Only a failure reported this soon after the send is resent: later, the moment for it has passed. */
export const RESEND_WITHIN_MS = 15 * 60_000;

/** How long after the failure the resend is due: a passing outage or rate limit has time to clear. */
export const RESEND_AFTER_MS = 2 * 60_000;

/**
 * The episode's ack or notice, marked sent (or still being marked: its status came first, held
 * for its worker or between its worker's alias and settling writes), that the provider reported failed with a code that
 * says a later try may go (DeliveryUpdate.retryable): announced failed as any (ack.failed taking
 * back its ack.sent, a notice's promise given back), then pending again for one more try, due
 * RESEND_AFTER_MS on, under a message id of its own (Ack.resends, ackTryMessageId); the sweeper
 * queues it then, and an episode that ends meanwhile skips it as any pending job. Null when it is
 * not to be sent again: the failure came more than RESEND_WITHIN_MS after the send, MAX_RESENDS
 * are spent, or the episode no longer needs it (answered, resolved, opted out); the caller
 * settles it failed. A repeated status finds the job pending for the resend, no longer this try.
 */
export function resendAfterFailure(
  conversation: Conversation,
  slot: Slot,
  failure: { reason: string; at: Date; sentAt: Date },
): Conversation | null {
  const job = conversation[slot];
  if (job?.state !== 'sent' && job?.state !== 'sending') return null;
  const resends = (job.resends ?? 0) + 1;
  if (resends > MAX_RESENDS) return null;
  if (failure.at.getTime() - failure.sentAt.getTime() > RESEND_WITHIN_MS) return null;
  if (ackNoLongerNeeded(conversation, job.episode)) return null;
  const failed = settleAck(
    conversation,
    job.episode,
    { state: 'failed', reason: failure.reason, at: failure.at },
    slot,
  );
  const settled = failed[slot];
  if (!settled || settled === job) return null;
  const { sentAt: _sent, messageId: _message, ...rest } = settled;
  const retryAt = new Date(failure.at.getTime() + RESEND_AFTER_MS).toISOString();
  return { ...failed, [slot]: { ...rest, state: 'pending', retryAt, resends } };
}
