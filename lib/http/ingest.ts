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
  for (const event of events) {
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
        break;
      }
      case 'delivery': {
        const outcome = await deps.handlers.delivery(event.update);
        deps.log.info('delivery update', { provider, status: event.update.status, outcome: outcome.kind });
        result.updates++;
        break;
      }
      case 'echo': {
        const outcome = await deps.handlers.echo(event.echo);
        deps.log.info('echo', { provider, channel: event.echo.channel, outcome: outcome.kind });
        result.updates++;
        break;
      }
      case 'transcription': {
        await deps.handlers.transcription(event.transcription);
        deps.log.info('transcription', { provider });
        result.updates++;
        break;
      }
      default:
        deps.log.info('webhook event ignored', { provider, reason: event.reason });
        result.ignored++;
    }
  }
  return result;
}
