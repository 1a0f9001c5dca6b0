import type { Channel } from '#lib/domain/channel.ts';
import type {
  AliasChange,
  DeliveryUpdate,
  InboundEvent,
  InboundMessage,
  OutboundEcho,
  Transcription,
} from '#lib/domain/message.ts';
import type { Clock } from '#lib/ports/clock.ts';
import type { Log } from '#lib/ports/logger.ts';
import type { RecordInboundResult } from '#lib/use-cases/record-inbound.ts';
import type { UpdateResult } from '#lib/use-cases/record-updates.ts';

/**
 * What the HTTP layer can do with each kind of normalized event (bound use cases). The clock a
 * message or an echo gets is its receipt time: ingest's own, later for each event of one
 * customer (see ingest). A message or an echo recorded later than received also gets the clock
 * of the store's writes (`recordingClock`).
 */
export type EventHandlers = {
  message: (message: InboundMessage, clock: Clock, recordingClock?: Clock) => Promise<RecordInboundResult>;
  delivery: (update: DeliveryUpdate) => Promise<UpdateResult>;
  echo: (
    echo: OutboundEcho,
    clock: Clock,
    recordingClock?: Clock,
    lastReceive?: boolean,
  ) => Promise<UpdateResult>;
  transcription: (transcription: Transcription) => Promise<UpdateResult>;
  alias: (change: AliasChange) => Promise<UpdateResult>;
};

export type IngestDeps = {
  handlers: EventHandlers;
  log: Log;
  clock: Clock;
  /**
   * When the webhook was received, if earlier than now (the worker recording one the store
   * could not take): its events' receipt times start here, while `clock` dates the writes.
   */
  receivedAt?: Date;
  /**
   * The worker's last receive of the deferred webhook's job (the queue's maxReceiveCount): an
   * echo that still cannot be placed is let go then, never failing the job into the DLQ.
   */
  lastReceive?: boolean;
};

export type IngestResult = {
  /** Each message event's outcome, with the channel it came on. */
  messages: Array<RecordInboundResult & { channel: Channel }>;
  updates: number;
  ignored: number;
};

// Meta batches up to about a thousand events: store them a few at a time, within its 20 s.
const CONCURRENCY = 8;

/**
 * Stores every event of one webhook before the provider gets its 200. An unknown or
 * unsupported event is ignored with one log line; a failure to store fails the request
 * (5xx), so the provider retries and the idempotent steps finish the work.
 *
 * One customer's events (Meta batches several of a person's messages, and the page's replies
 * to them) are stored one after the other, in the order the provider says they were written,
 * each with a receipt time after the one before: stored at once they would share a
 * millisecond, and a conversation's messages, sorted by receipt time, would show them in any
 * order. (They would also only race for the same conversation item.) Different customers'
 * events are stored a few at a time.
 */
export async function ingest(
  deps: IngestDeps,
  provider: string,
  events: InboundEvent[],
): Promise<IngestResult> {
  const result: IngestResult = { messages: [], updates: 0, ignored: 0 };
  const { receivedAt } = deps;
  const receiptClock: Clock = receivedAt ? { now: () => receivedAt } : deps.clock;
  const lanes = lanesOf(events);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (next < lanes.length && !failure) {
      const lane = lanes[next++] as InboundEvent[];
      const clock = laterEachCall(receiptClock);
      for (const event of lane) {
        if (failure) return;
        try {
          await handle(deps, provider, event, result, clock);
        } catch (error) {
          failure ??= { error };
        }
      }
    }
  };
  // Every worker finishes before we answer: nothing may still be writing once Lambda freezes.
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, lanes.length) }, worker));
  if (failure) throw failure.error;
  return result;
}

/**
 * The events of one webhook, one lane per customer (their messages and the business's echoes
 * to them, in the order they were sent when the provider dates every one of them, else as
 * given); every other event is a lane of its own.
 */
export function lanesOf(events: InboundEvent[]): InboundEvent[][] {
  const lanes: InboundEvent[][] = [];
  const byContact = new Map<string, InboundEvent[]>();
  for (const event of events) {
    // A message that names its sender by two keys (a WhatsApp number and BSUID) shares the lane
    // of either: the one with the BSUID only must find the link the first one writes.
    const keys = contactsOf(event);
    const lane = keys.map((key) => byContact.get(key)).find((found) => found !== undefined);
    if (lane) lane.push(event);
    else lanes.push([event]);
    const joined = lane ?? (lanes[lanes.length - 1] as InboundEvent[]);
    for (const key of keys) if (!byContact.has(key)) byContact.set(key, joined);
  }
  for (const lane of byContact.values()) {
    const times = lane.map(sentAtOf);
    // Stable: events of the same second (WhatsApp dates in seconds) keep the provider's order.
    if (lane.length > 1 && times.every((time) => time !== undefined)) {
      const order = lane.map((event, index) => ({ event, time: times[index] as number }));
      order.sort((a, b) => a.time - b.time);
      lane.splice(0, lane.length, ...order.map(({ event }) => event));
    }
  }
  return lanes;
}

function contactsOf(event: InboundEvent): string[] {
  if (event.type === 'message') {
    const { contactKey, aliasKey } = event.message;
    return aliasKey ? [contactKey, aliasKey] : [contactKey];
  }
  if (event.type === 'echo') return [event.echo.contactKey];
  // Before a message under the new key alone in the same webhook, which must find its link; after
  // the messages under the key it replaces (a changed id's previous one, a changed number's old
  // number and id), whose contact and open conversation it reads to link and readdress (before
  // them it could find no contact, link nothing, and leave the next message under the new id a
  // conversation and an ack of its own); a changed number's before the new number's messages,
  // which must join what it carried.
  if (event.type === 'alias') {
    const { aliasKey, contactKey, previousKey, movedFrom = [] } = event.change;
    return [
      aliasKey,
      ...(contactKey ? [contactKey] : []),
      ...(previousKey ? [previousKey] : []),
      ...movedFrom,
    ];
  }
  return [];
}

function sentAtOf(event: InboundEvent): number | undefined {
  const sentAt =
    event.type === 'message' ? event.message.sentAt : event.type === 'echo' ? event.echo.sentAt : undefined;
  const time = sentAt === undefined ? Number.NaN : Date.parse(sentAt);
  return Number.isNaN(time) ? undefined : time;
}

/** A lane's clock (laterEachCall), which a message stored before (at its own time) moves on. */
type LaneClock = Clock & { after(time: number): void };

/**
 * A clock that reads `clock` but never gives the same time twice, nor an earlier one: the
 * receipt times of one customer's events in one webhook. Past the first event the real clock
 * has almost always moved on (each takes a few writes); it adds a millisecond only when not.
 * `after`: an event an earlier try of this webhook stored keeps the time it got then (the
 * webhook's real clock, moved on by its writes), and the events after it come later still:
 * the worker's fixed receipt time would otherwise place them before it.
 */
function laterEachCall(clock: Clock): LaneClock {
  let last = Number.NEGATIVE_INFINITY;
  return {
    now() {
      last = Math.max(clock.now().getTime(), last + 1);
      return new Date(last);
    },
    after(time: number) {
      if (!Number.isNaN(time)) last = Math.max(last, time);
    },
  };
}

async function handle(
  deps: IngestDeps,
  provider: string,
  event: InboundEvent,
  result: IngestResult,
  clock: LaneClock,
): Promise<void> {
  switch (event.type) {
    case 'message': {
      const recorded = await deps.handlers.message(
        event.message,
        clock,
        deps.receivedAt ? deps.clock : undefined,
      );
      clock.after(Date.parse(recorded.receivedAt));
      deps.log.info('inbound message', {
        provider,
        channel: event.message.channel,
        kind: event.message.kind,
        outcome: recorded.kind,
        conversationId: recorded.conversationId,
        ack: recorded.ack,
      });
      result.messages.push({ ...recorded, channel: event.message.channel });
      return;
    }
    case 'delivery': {
      const outcome = await deps.handlers.delivery(event.update);
      deps.log.info('delivery update', { provider, status: event.update.status, outcome: outcome.kind });
      result.updates++;
      return;
    }
    case 'echo': {
      const outcome = await deps.handlers.echo(
        event.echo,
        clock,
        deps.receivedAt ? deps.clock : undefined,
        deps.lastReceive,
      );
      deps.log.info('echo', { provider, channel: event.echo.channel, outcome: outcome.kind });
      result.updates++;
      return;
    }
    case 'transcription': {
      await deps.handlers.transcription(event.transcription);
      deps.log.info('transcription', { provider });
      result.updates++;
      return;
    }
    case 'alias': {
      const outcome = await deps.handlers.alias(event.change);
      deps.log.info('contact alias', { provider, outcome: outcome.kind });
      result.updates++;
      return;
    }
    default:
      deps.log.info('webhook event ignored', { provider, reason: event.reason });
      result.ignored++;
  }
}
