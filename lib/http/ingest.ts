import type { InboundEvent, InboundMessage } from '#lib/domain/message.ts';
import type { Log } from '#lib/ports/logger.ts';
import type { RecordInboundResult } from '#lib/use-cases/record-inbound.ts';

export type IngestDeps = {
  record: (message: InboundMessage) => Promise<RecordInboundResult>;
  log: Log;
};

/**
 * Stores every event of one webhook before the provider gets its 200. An unknown or
 * unsupported event is ignored with one log line; a failure to store fails the request
 * (5xx), so the provider retries and the idempotent steps finish the work.
 */
export async function ingest(
  deps: IngestDeps,
  provider: string,
  events: InboundEvent[],
): Promise<RecordInboundResult[]> {
  const results: RecordInboundResult[] = [];
  for (const event of events) {
    if (event.type !== 'message') {
      deps.log.info('webhook event ignored', {
        provider,
        type: event.type,
        ...(event.type === 'ignored' ? { reason: event.reason } : {}),
      });
      continue;
    }
    const result = await deps.record(event.message);
    deps.log.info('inbound message', {
      provider,
      channel: event.message.channel,
      outcome: result.kind,
      conversationId: result.conversationId,
      ack: result.ack,
    });
    results.push(result);
  }
  return results;
}
