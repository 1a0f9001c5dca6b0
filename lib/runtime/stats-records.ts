import { z } from 'zod';
import { type DomainEvent, DomainEventSchema } from '#lib/domain/events.ts';
import { type CountOutcome, countEvents, type StatsSinkDeps } from '#lib/use-cases/service-level.ts';

/**
 * A batch of the stats queue: each body is one event as the EventBridge rule delivers it (the
 * bus's envelope, our event in `detail`) or, locally, the event itself. All of a batch's
 * events are counted together (one stats write per day and channel); a body that is not an
 * event can never be counted and is logged and dropped. A failed count throws: the queue
 * delivers the batch again and the events already counted are recognised by their markers.
 */
export async function countEventRecords(
  deps: StatsSinkDeps,
  records: readonly { body: string; messageId: string }[],
): Promise<Record<CountOutcome | 'invalid', number>> {
  const tally: Record<CountOutcome | 'invalid', number> = {
    counted: 0,
    duplicate: 0,
    ignored: 0,
    invalid: 0,
  };
  const events: DomainEvent[] = [];
  for (const record of records) {
    const event = parseEventBody(record.body);
    if (event) events.push(event);
    else {
      tally.invalid++;
      deps.log.error('stats record is not an event; dropped', { messageId: record.messageId });
    }
  }
  for (const outcome of await countEvents(deps, events)) tally[outcome]++;
  return tally;
}

/**
 * What the stats can count: an event whose ids fit in a table key (the markers are keyed by
 * them; DynamoDB's keys end at 2 KB) and whose time is a time. Ours always are; anything else
 * on the queue is dropped, not retried into the DLQ.
 */
const CountableEventSchema = DomainEventSchema.extend({
  id: z.string().min(1).max(200),
  conversationId: z.string().min(1).max(200),
  occurredAt: z.iso.datetime({ offset: true }),
});

/** An event from a line or a queue body: bare, or in an EventBridge envelope's `detail`. */
export function parseEventBody(body: string): DomainEvent | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return null;
  }
  const candidate =
    parsed !== null && typeof parsed === 'object' && 'detail' in parsed
      ? (parsed as { detail: unknown }).detail
      : parsed;
  const event = CountableEventSchema.safeParse(candidate);
  return event.success ? event.data : null;
}
