import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { DomainEvent } from '#lib/domain/events.ts';
import type { EventSink } from '#lib/ports/event-sink.ts';

// PutEvents takes at most ten entries a call.
const BATCH = 10;

/** Events onto the Switchboard bus: source `switchboard`, detail-type = the event type. */
export class EventBridgeEventSink implements EventSink {
  readonly #client: EventBridgeClient;
  readonly #busName: string;

  constructor(options: { client: EventBridgeClient; busName: string }) {
    this.#client = options.client;
    this.#busName = options.busName;
  }

  async publish(events: readonly DomainEvent[]): Promise<void> {
    for (let i = 0; i < events.length; i += BATCH) {
      const batch = events.slice(i, i + BATCH);
      const result = await this.#client.send(
        new PutEventsCommand({
          Entries: batch.map((event) => ({
            EventBusName: this.#busName,
            Source: 'switchboard',
            DetailType: event.type,
            Time: new Date(event.occurredAt),
            Detail: JSON.stringify(event),
          })),
        }),
      );
      // A partial failure is a failure: the outbox keeps the batch and the sweeper resends it.
      if (result.FailedEntryCount)
        throw new Error(`EventBridge refused ${result.FailedEntryCount} of ${batch.length} events`);
    }
  }
}
