// The acknowledgement's stored form (an ack or a late notice: its state, tries, lease, retry and
// uncertain try), where a try went, an ended episode's owed lookup, and the two slots.

import { z } from 'zod';
import { ChannelSchema } from '../channel.ts';
import { ReplyPromiseSchema } from '../promise.ts';

export const AckStateSchema = z.enum(['pending', 'sending', 'sent', 'skipped', 'failed']);
export type AckState = z.infer<typeof AckStateSchema>;

/** Where a try went: the channel and provider, the customer's address, ours, and its provider id. */
export const SentViaSchema = z.looseObject({
  channel: ChannelSchema,
  provider: z.string(),
  to: z.string(),
  from: z.string(),
  businessId: z.string().optional(),
});
export type SentVia = z.infer<typeof SentViaSchema>;

/** The acknowledgement of the conversation's current waiting episode. */
export const AckSchema = z.looseObject({
  state: AckStateSchema,
  episode: z.number().int().positive(),
  reason: z.string().optional(),
  sentAt: z.string().optional(),
  /** When it became pending; the sweeper re-enqueues from here. */
  requestedAt: z.string(),
  /** When a job for it was last put on the queue. */
  enqueuedAt: z.string().optional(),
  attempts: z.number().int().nonnegative(),
  /** A worker's claim: nobody else sends it before this moment. */
  leaseUntil: z.string().optional(),
  /**
   * The event number its first claim reserved (counted in the conversation's eventSequence) for
   * the event that settles it (`*.sent`, announced ahead of the worker's write, `*.skipped`,
   * `*.failed`): no other writer's event can take it meanwhile. Kept while it waits for another
   * try, taken by that event (stop 34).
   */
  sequence: z.number().int().positive().optional(),
  /**
   * After a failed try (the provider down, throttling): not tried again before this moment.
   * The sweeper queues it then; a copy of its job that comes earlier leaves it. Also the first
   * try's, for an ack held for an inbox reply queued behind its message (InboundContext.holdAckUntil).
   */
  retryAt: z.string().optional(),
  messageId: z.string().optional(),
  /**
   * How many times it was sent again because the provider reported the sent one failed with a
   * code that says a later try may go (WhatsApp 131000, 131016, 130429…: DeliveryUpdate.retryable),
   * at most MAX_RESENDS (ack-resend.ts). Each resend is a message of its own (ackTryMessageId).
   */
  resends: z.number().int().positive().optional(),
  /**
   * When it failed only because its retries ran out (the provider kept failing; the job went
   * to the DLQ): a job redriven from the DLQ claims it again, with a fresh budget of attempts.
   */
  deadLetteredAt: z.string().optional(),
  /**
   * A late notice's: the episode's promise before the notice stated a new one (`stated`, its
   * replyBy). Put back if the provider then refuses the notice (settleAck): the customer never
   * heard the new time, so the one they last heard stays in force.
   */
  replaced: z
    .looseObject({
      promise: ReplyPromiseSchema.nullable(),
      replyBy: z.string().nullable(),
      originalReplyBy: z.string().nullable(),
      stated: z.string(),
    })
    .optional(),
  /**
   * A try whose outcome we do not know (no answer came after the request was written; the
   * provider may have taken it): when it began and the text it carried. The next try first asks
   * the provider for that message (ChannelSender.find) and adopts it, sending only when the
   * provider has none; kept until the ack is sent or skipped (a failed one keeps it, so that a
   * redrive asks first). An episode that ends meanwhile (a reply, a resolve, a STOP) leaves such
   * an ack pending for one lookup-only try (endPendingJobs): recorded as sent if the provider has
   * it, else skipped.
   */
  uncertain: z
    .looseObject({
      at: z.string(),
      text: z.string(),
      /**
       * Where that try went (the route then): its lookup asks from there, not from the route in
       * force when it runs (the customer may have written to another of our numbers since).
       * Absent on marks written before stop 26: the conversation's route is used.
       */
      via: SentViaSchema.optional(),
    })
    .optional(),
  /**
   * The same person's ack this one waits for: the episode's ack of the conversation their
   * other key (a WhatsApp BSUID) opened before the two were linked, still queued when the link
   * was written. The worker goes by it at send time (linked-ack.ts): skipped when that one
   * went, held while it is still to go, sent when it did not go (stop 28). With `contactKey`: that
   * conversation was only claimed on the contact (its first message in flight) when the link read it.
   */
  after: z
    .looseObject({
      conversationId: z.string(),
      episode: z.number().int().positive(),
      contactKey: z.string().optional(),
    })
    .optional(),
});
export type Ack = z.infer<typeof AckSchema>;
/** An uncertain try of an automatic message (Ack.uncertain). */
export type UncertainTry = NonNullable<Ack['uncertain']>;

/**
 * An ended episode's ack or notice whose last try was uncertain, replaced in its slot before its
 * lookup-only try (an agent replied, then the customer wrote again: the next episode's ack took
 * the slot). The provider is still asked for it, never sent it again: the sweeper queues its job
 * at `retryAt` and the worker records it as sent (found) or skipped (not found).
 */
export const OwedLookUpSchema = z.looseObject({
  slot: z.enum(['ack', 'notice']),
  episode: z.number().int().positive(),
  requestedAt: z.string(),
  attempts: z.number().int().nonnegative(),
  retryAt: z.string(),
  /** When the sweeper last queued its job: not again before another grace period (as Ack.enqueuedAt). */
  enqueuedAt: z.string().optional(),
  /**
   * Absent: its job was being sent when its slot was taken (stop 34), its try's outcome known to
   * its worker alone, whose settling write replaces the entry (owingReplacedTry); should that
   * worker die, its job's next delivery (or the sweeper's, after its lease) settles it: sent when
   * its message is stored, else skipped.
   */
  uncertain: AckSchema.shape.uncertain.unwrap().optional(),
  /** Its job's Ack.sequence: the number its `*.sent` or `*.skipped` takes. */
  sequence: z.number().int().positive().optional(),
  /** Its job's Ack.resends: the try looked up is that resend's (ackTryMessageId), not the failed first one. */
  resends: z.number().int().positive().optional(),
  /**
   * Its job had failed (out of tries, dead-lettered) and was counted in AcksFailed (NoticesFailed):
   * the lookup that settles it takes that back (stop 33).
   */
  countedFailed: z.literal(true).optional(),
  /**
   * Its tries spent while the provider could not be read back (stop 35): its job went on to the
   * DLQ; the sweeper queues it no more, and a redrive reads again with a fresh budget.
   */
  deadLetteredAt: z.string().optional(),
});
export type OwedLookUp = z.infer<typeof OwedLookUpSchema>;

/** The two automatic messages of an episode: the acknowledgement and the late notice. */
export type Slot = 'ack' | 'notice';
