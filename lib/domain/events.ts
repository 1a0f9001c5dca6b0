import { z } from 'zod';
import { stableId } from './ids.ts';

export const EVENT_TYPES = [
  'conversation.opened',
  'message.received',
  'ack.sent',
  'ack.skipped',
  'ack.failed',
  'notice.sent',
  'notice.skipped',
  'notice.failed',
  'reply.sent',
  'note.added',
  'reply.failed',
  'conversation.assigned',
  'conversation.resolved',
  'conversation.reopened',
  'promise.breached',
] as const;
export const EventTypeSchema = z.enum(EVENT_TYPES);
export type EventType = z.infer<typeof EventTypeSchema>;

/**
 * What downstream tools hear. `id` is stable: the same change always produces the same id,
 * however often a retry re-applies it or a publisher re-delivers it, so consumers drop
 * duplicates by id. Loose: a field a newer release put on an event in an outbox is delivered too.
 */
export const DomainEventSchema = z.looseObject({
  id: z.string(),
  /**
   * One of EVENT_TYPES when this release made it; read from a store or a queue, any name: a newer
   * release's event in an outbox this release delivers (a rolling deploy, a rollback) is
   * delivered as it is, never the reason the conversation cannot be read.
   */
  type: EventTypeSchema.or(z.string().min(1).max(100)),
  occurredAt: z.string(),
  /**
   * The event's place among its conversation's events: 1, 2, 3… in the order the changes were
   * written; the events of one write share `occurredAt`, and a delivery retried behind a newer one
   * comes late, so consumers order by this. Each number is one event's: an automatic message's
   * outcome (`*.sent`, announced ahead of its worker's write, or `*.skipped` / `*.failed`) carries
   * the number its worker's claim reserved (Ack.sequence), so it may come after events numbered
   * above it, written while it was being sent or while it backed off (minutes) or waited for its
   * channel (as long as that is switched off). Not gapless: a number this release's claim reserved
   * for a job the previous release's worker then settled is never used (that release numbers its
   * event anew). Absent on events made by a release before stop 31.
   */
  sequence: z.number().int().positive().optional(),
  conversationId: z.string(),
  data: z.record(z.string(), z.unknown()),
});
export type DomainEvent = z.infer<typeof DomainEventSchema>;

/**
 * Adds an event to an item's outbox (written in the same conditional write as the change it
 * reports); `occurrence` names the one change, e.g. the episode or the message id. The item
 * counts its events (`eventSequence`, kept with it under the same version condition), so the
 * event is numbered after every earlier one; a change applied again adds nothing and counts
 * nothing. `reserved`: a number an earlier write of the same item counted and kept for this
 * event (an ack's claim, Ack.sequence), which it takes instead of a new one.
 */
export function withEvent<
  T extends { id: string; outbox: DomainEvent[]; eventSequence?: number | undefined },
>(
  item: T,
  type: EventType,
  occurrence: string,
  at: Date,
  data: Record<string, unknown> = {},
  reserved?: number,
): T {
  const id = stableId('evt', `${item.id}:${type}:${occurrence}`);
  if (item.outbox.some((event) => event.id === id)) return item;
  const counted = item.eventSequence ?? 0;
  const sequence = reserved !== undefined && reserved <= counted ? reserved : counted + 1;
  return {
    ...item,
    eventSequence: Math.max(counted, sequence),
    outbox: [
      ...item.outbox,
      { id, type, occurredAt: at.toISOString(), sequence, conversationId: item.id, data },
    ],
  };
}
