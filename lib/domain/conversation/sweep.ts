// When the sweeper must next look at a conversation (nextSweepAt).

import type { NoticeTiming } from '../promise.ts';
import type { Ack } from './ack-schema.ts';
import { waitsForChannel } from './channel-wait.ts';
import { lookUpDueAt } from './look-ups.ts';
import { breachDueAt, noticeDueAt } from './promise-timing.ts';
import type { Conversation } from './schema.ts';

function jobSweepAt(job: Ack | null, graceMs: number): number | null {
  if (!job || waitsForChannel(job)) return null;
  if (job.state === 'pending') {
    const queued = Date.parse(job.enqueuedAt ?? job.requestedAt) + graceMs;
    return job.retryAt ? Math.max(queued, Date.parse(job.retryAt)) : queued;
  }
  if (job.state === 'sending') {
    // After the lease, but not again within the grace period of the sweeper's own requeue.
    const lease = Date.parse(job.leaseUntil ?? job.requestedAt);
    return Math.max(lease, job.enqueuedAt ? Date.parse(job.enqueuedAt) + graceMs : 0);
  }
  return null;
}

/**
 * When the sweeper must next look at this conversation, or null when it has nothing to do:
 * a pending ack or notice that no worker picked up, a claim whose worker died, or a late
 * notice coming due. An ack or notice waiting for its channel's configuration has none
 * (waitsForChannel).
 */
export function nextSweepAt(
  conversation: Conversation,
  graceMs: number,
  notice?: NoticeTiming,
): string | null {
  const times = [
    jobSweepAt(conversation.ack, graceMs),
    jobSweepAt(conversation.notice, graceMs),
    ...(conversation.lookUps ?? []).map((owed) => lookUpDueAt(owed, graceMs)),
  ];
  if (notice !== undefined) {
    const due = noticeDueAt(conversation, notice);
    if (due) times.push(Date.parse(due));
  }
  const breach = breachDueAt(conversation);
  if (breach) times.push(Date.parse(breach));
  // Events the publisher did not get out (a crash, an outage): the sweeper sends them.
  const undelivered = conversation.outbox[0];
  const retryAt = conversation.outboxRetryAt ? Date.parse(conversation.outboxRetryAt) : 0;
  if (undelivered) times.push(Math.max(Date.parse(undelivered.occurredAt) + graceMs, retryAt));
  else if (conversation.outboxSpill) times.push(retryAt);
  const next = times.filter((time): time is number => time !== null);
  return next.length > 0 ? new Date(Math.min(...next)).toISOString() : null;
}
