import {
  breachDueAt,
  type Conversation,
  deferOutbox,
  markAckEnqueued,
  markBreached,
  noticeDueAt,
  requestNotice,
  type Slot,
} from '#lib/domain/conversation.ts';
import type { AckQueue } from '#lib/ports/ack-queue.ts';
import type { Clock } from '#lib/ports/clock.ts';
import type { ConversationStore } from '#lib/ports/conversation-store.ts';
import type { Log } from '#lib/ports/logger.ts';
import type { Metrics } from '#lib/ports/metrics.ts';
import { updateConversation } from './conversation-writes.ts';

export type SweepDeps = {
  store: ConversationStore;
  queue: AckQueue;
  clock: Clock;
  log: Log;
  metrics: Metrics;
  /** Delivers a conversation's outbox (events a crash or an outage left undelivered). */
  publish?: (conversation: Conversation) => Promise<Conversation>;
  /** The sweeper's base wait before it retries what failed (the ack grace period). */
  graceMs?: number;
  /** How long before the promised time an unanswered episode gets its late notice. */
  noticeLeadMs: number;
  /** Sends the outbound webhook deliveries that are due (first attempts a crash left, retries). */
  deliverWebhooks?: () => Promise<unknown>;
  /** Records stored mail whose SNS notification never arrived (recoverMail). */
  recoverMail?: () => Promise<unknown>;
};

export type SweepResult = { requeued: number; notices: number; breaches: number; errors: number };

/**
 * Finishes what a crash or an outage left half done (an ack or notice recorded as pending
 * that never reached the queue, a claim whose worker died) and starts the late notices that
 * came due. Finds them with a Query on the sweep index, never a Scan; queueing twice is
 * harmless (the worker claims).
 */
export async function sweep(deps: SweepDeps, limit = 100): Promise<SweepResult> {
  const now = deps.clock.now();
  const due = await deps.store.dueForSweep(now, limit);
  const result: SweepResult = { requeued: 0, notices: 0, breaches: 0, errors: 0 };
  for (let conversation of due) {
    try {
      if (conversation.outbox.length > 0 && deps.publish) {
        conversation = await deps.publish(conversation);
        if (conversation.outbox.length > 0) {
          conversation =
            (await updateConversation(deps.store, conversation.id, (current) =>
              deferOutbox(current, now, deps.graceMs ?? 60_000),
            )) ?? conversation;
        }
      }
      const breach = breachDueAt(conversation);
      if (breach && Date.parse(breach) <= now.getTime()) {
        // The promise passed and nobody answered: counted once per episode, for the alarm.
        conversation =
          (await updateConversation(deps.store, conversation.id, (current) => markBreached(current, now))) ??
          conversation;
        deps.metrics.count('PromiseBreaches');
        result.breaches++;
      }
      const noticeDue = noticeDueAt(conversation, deps.noticeLeadMs);
      if (noticeDue && Date.parse(noticeDue) <= now.getTime()) {
        conversation =
          (await updateConversation(deps.store, conversation.id, (current) => requestNotice(current, now))) ??
          conversation;
        result.notices++;
      }
      for (const slot of ['ack', 'notice'] as const satisfies readonly Slot[]) {
        const job = conversation[slot];
        if (!job || (job.state !== 'pending' && job.state !== 'sending')) continue;
        if (job.state === 'sending' && job.leaseUntil && Date.parse(job.leaseUntil) > now.getTime()) continue;
        await deps.queue.enqueue({ conversationId: conversation.id, episode: job.episode, kind: slot });
        await updateConversation(deps.store, conversation.id, (current) =>
          markAckEnqueued(current, job.episode, now, slot),
        );
        result.requeued++;
      }
    } catch (error) {
      result.errors++;
      deps.log.warn('sweeper could not requeue', {
        conversationId: conversation.id,
        error: (error as Error).name,
      });
    }
  }
  if (deps.deliverWebhooks) {
    try {
      await deps.deliverWebhooks();
    } catch (error) {
      result.errors++;
      deps.log.warn('sweeper could not deliver webhooks', { error: (error as Error).name });
    }
  }
  // Last: a large mail read from S3 must not hold up the acks above.
  if (deps.recoverMail) {
    try {
      await deps.recoverMail();
    } catch (error) {
      result.errors++;
      deps.log.warn('sweeper could not recheck stored mail', { error: (error as Error).name });
    }
  }
  if (result.requeued > 0 || result.errors > 0)
    deps.log.info('sweep finished', { due: due.length, ...result });
  return result;
}
