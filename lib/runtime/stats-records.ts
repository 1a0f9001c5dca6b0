import { z } from 'zod';
import { type DomainEvent, DomainEventSchema, EventTypeSchema } from '#lib/domain/events.ts';
import { type CountOutcome, countEvents, type StatsSinkDeps } from '#lib/use-cases/service-level.ts';

/** A stats batch counted: the tally, and the records to give back to the queue. */
export type StatsBatchResult = {
  tally: Record<CountOutcome | 'invalid', number>;
  /** The records this release cannot read (as the Lambda reports them to SQS). */
  batchItemFailures: Array<{ itemIdentifier: string }>;
};

/**
 * A batch of the stats queue: each body is one event as the EventBridge rule delivers it (the
 * bus's envelope, our event in `detail`) or, locally, the event itself. All of a batch's
 * events are counted together (one stats write per day and channel). A body this release cannot
 * read is never dropped: only our events reach the queue (the rule matches our source), so it is
 * a newer release's (a rolling deploy: an event type an older worker does not know) or our bug.
 * It fails its record, so the queue gives it again and after its receives keeps it in the stats
 * DLQ, to be redriven once every function runs the release that reads it (each event is counted
 * once however often it comes). A failed count throws: the queue delivers the batch again and the
 * events already counted are recognised by their markers.
 */
export async function countEventRecords(
  deps: StatsSinkDeps,
  records: readonly { body: string; messageId: string }[],
): Promise<StatsBatchResult> {
  const tally: Record<CountOutcome | 'invalid', number> = {
    counted: 0,
    duplicate: 0,
    ignored: 0,
    invalid: 0,
  };
  const batchItemFailures: StatsBatchResult['batchItemFailures'] = [];
  const events: DomainEvent[] = [];
  for (const record of records) {
    const event = parseEventBody(record.body);
    if (event) events.push(event);
    else {
      tally.invalid++;
      batchItemFailures.push({ itemIdentifier: record.messageId });
      deps.log.error('stats record this release cannot read; back to the queue, then the DLQ', {
        messageId: record.messageId,
        ...eventTypeOf(record.body),
      });
    }
  }
  for (const outcome of await countEvents(deps, events)) tally[outcome]++;
  return { tally, batchItemFailures };
}

/** The event type a body names, for the log line (ours, never customer data), when it is a name. */
function eventTypeOf(body: string): { type?: string } {
  try {
    const parsed = JSON.parse(body) as { detail?: { type?: unknown }; type?: unknown } | null;
    const type = parsed?.detail?.type ?? parsed?.type;
    return typeof type === 'string' && /^[\w.-]{1,60}$/.test(type) ? { type } : {};
  } catch {
    return {};
  }
}

/**
 * What the stats can count: an event of a type this release knows, whose ids fit in a table key
 * (the markers are keyed by them; DynamoDB's keys end at 2 KB) and whose time is a time.
 */
const CountableEventSchema = DomainEventSchema.extend({
  type: EventTypeSchema,
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
