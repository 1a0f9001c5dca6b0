import { markAckEnqueued } from '#lib/domain/conversation.ts';
import type { AckQueue } from '#lib/ports/ack-queue.ts';
import type { Clock } from '#lib/ports/clock.ts';
import type { ConversationStore } from '#lib/ports/conversation-store.ts';
import type { Log } from '#lib/ports/logger.ts';
import { updateConversation } from './conversation-writes.ts';

export type SweepDeps = { store: ConversationStore; queue: AckQueue; clock: Clock; log: Log };

export type SweepResult = { requeued: number; errors: number };

/**
 * Finishes what a crash or an outage left half done: an ack recorded as pending that never
 * reached the queue (or whose job was lost), and a claim whose worker died. Finds them with
 * a Query on the sweep index, never a Scan; queueing twice is harmless (the worker claims).
 */
export async function sweep(deps: SweepDeps, limit = 100): Promise<SweepResult> {
  const now = deps.clock.now();
  const due = await deps.store.dueForSweep(now, limit);
  let requeued = 0;
  let errors = 0;
  for (const conversation of due) {
    const ack = conversation.ack;
    if (!ack || (ack.state !== 'pending' && ack.state !== 'sending')) continue;
    try {
      await deps.queue.enqueue({ conversationId: conversation.id, episode: ack.episode });
      await updateConversation(deps.store, conversation.id, (current) =>
        markAckEnqueued(current, ack.episode, now),
      );
      requeued++;
    } catch (error) {
      errors++;
      deps.log.warn('sweeper could not requeue an ack', {
        conversationId: conversation.id,
        error: (error as Error).name,
      });
    }
  }
  if (requeued > 0 || errors > 0) deps.log.info('sweep finished', { due: due.length, requeued, errors });
  return { requeued, errors };
}
