import { z } from 'zod';
import { InboundEventSchema } from '#lib/domain/message.ts';

/** At most this many delivered event ids ride in a job; a longer outbox is cleared by the claim as usual. */
export const MAX_DELIVERED_IDS = 50;

/** One automatic message to send: which conversation, which waiting episode, ack or late notice. */
export const AckJobSchema = z.object({
  // Bounded: it becomes a table key (DynamoDB's end at 2 KB); a job that cannot be read fails to the DLQ.
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

/** At most this many events ride in one deferred webhook's job (a larger webhook takes several). */
export const MAX_INBOUND_JOB_EVENTS = 100;

/**
 * A webhook whose events could not be stored while the provider waited (DynamoDB unavailable
 * or throttling), verified and normalized, for the worker to record. For a provider that does
 * not retry a webhook we fail (Twilio: a 5xx is logged in its debugger, and the message is
 * never posted again), and for one that gives up on us (Meta: Messenger unsubscribes the app
 * from the Page after an hour of failed deliveries). `receivedAt` is when it came: its messages
 * keep that receipt time (the promise counts from it), whenever the worker records them.
 */
export const InboundJobSchema = z.object({
  kind: z.literal('inbound'),
  provider: z.string().min(1).max(64),
  receivedAt: z.iso.datetime({ offset: true }),
  events: z.array(InboundEventSchema).min(1).max(MAX_INBOUND_JOB_EVENTS),
});
export type InboundJob = z.infer<typeof InboundJobSchema>;

/** The work queue: the jobs of the worker (acknowledgements, late notices, deferred webhooks). */
export interface AckQueue {
  enqueue(job: AckJob): Promise<void>;
  /** Puts a webhook's events on the queue for the worker to record; throws if the queue refused it. */
  deferInbound(job: InboundJob): Promise<void>;
}
