import { appendFile } from 'node:fs/promises';
import type { DomainEvent } from '#lib/domain/events.ts';
import type { EventSink } from '#lib/ports/event-sink.ts';

/** Locally, events are appended to events.jsonl in the data dir, one JSON object a line. */
export class LocalEventSink implements EventSink {
  readonly #path: string;

  constructor(options: { path: string }) {
    this.#path = options.path;
  }

  async publish(events: readonly DomainEvent[]): Promise<void> {
    if (events.length === 0) return;
    await appendFile(this.#path, events.map((event) => `${JSON.stringify(event)}\n`).join(''), 'utf8');
  }
}
