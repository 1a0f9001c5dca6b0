import { z } from 'zod';

/** At most this many delivered event ids ride in a job; a longer outbox is cleared by the claim as usual. */
export const MAX_DELIVERED_IDS = 50;

/** One automatic message to send: which conversation, which waiting episode, ack or late notice. */
export const AckJobSchema = z.object({
  // Bounded: it becomes a table key (DynamoDB's end at 2 KB); a job that cannot be read is dropped, not retried.
  conversationId: z.string().min(1).max(200),
  episode: z.number().int().positive(),
  kind: z.enum(['ack', 'notice']).optional(),
  /**
   * Events of the conversation's outbox the writer already delivered: the worker's claim,
   * which writes the conversation anyway, removes them (so no clearing write was needed).
   */
  delivered: z.array(z.string().min(1).max(64)).max(MAX_DELIVERED_IDS).optional(),
});
export type AckJob = z.infer<typeof AckJobSchema>;

/** The queue between recording a message and sending its acknowledgement. */
export interface AckQueue {
  enqueue(job: AckJob): Promise<void>;
}
