import type {
  DeliveryUpdate,
  InboundEvent,
  InboundMessage,
  OutboundEcho,
  Transcription,
} from '#lib/domain/message.ts';
import type { Log } from '#lib/ports/logger.ts';
import type { RecordInboundResult } from '#lib/use-cases/record-inbound.ts';
import type { UpdateResult } from '#lib/use-cases/record-updates.ts';

/** What the HTTP layer can do with each kind of normalized event (bound use cases). */
export type EventHandlers = {
  message: (message: InboundMessage) => Promise<RecordInboundResult>;
  delivery: (update: DeliveryUpdate) => Promise<UpdateResult>;
  echo: (echo: OutboundEcho) => Promise<UpdateResult>;
  transcription: (transcription: Transcription) => Promise<UpdateResult>;
};

export type IngestDeps = { handlers: EventHandlers; log: Log };

export type IngestResult = { messages: RecordInboundResult[]; updates: number; ignored: number };

// Meta batches up to about a thousand events: store them a few at a time, within its 20 s.
const CONCURRENCY = 8;

/**
 * Stores every event of one webhook before the provider gets its 200. An unknown or
 * unsupported event is ignored with one log line; a failure to store fails the request
 * (5xx), so the provider retries and the idempotent steps finish the work.
 */
export async function ingest(
  deps: IngestDeps,
  provider: string,
  events: InboundEvent[],
): Promise<IngestResult> {
  const result: IngestResult = { messages: [], updates: 0, ignored: 0 };
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (next < events.length && !failure) {
      const event = events[next++] as InboundEvent;
      try {
        await handle(deps, provider, event, result);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  // Every worker finishes before we answer: nothing may still be writing once Lambda freezes.
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, events.length) }, worker));
  if (failure) throw failure.error;
  return result;
}

async function handle(
  deps: IngestDeps,
  provider: string,
  event: InboundEvent,
  result: IngestResult,
): Promise<void> {
  switch (event.type) {
    case 'message': {
      const recorded = await deps.handlers.message(event.message);
      deps.log.info('inbound message', {
        provider,
        channel: event.message.channel,
        kind: event.message.kind,
        outcome: recorded.kind,
        conversationId: recorded.conversationId,
        ack: recorded.ack,
      });
      result.messages.push(recorded);
      return;
    }
    case 'delivery': {
      const outcome = await deps.handlers.delivery(event.update);
      deps.log.info('delivery update', { provider, status: event.update.status, outcome: outcome.kind });
      result.updates++;
      return;
    }
    case 'echo': {
      const outcome = await deps.handlers.echo(event.echo);
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
    default:
      deps.log.info('webhook event ignored', { provider, reason: event.reason });
      result.ignored++;
  }
}
