import type { DomainEvent } from '#lib/domain/events.ts';
import type { EventSink } from '#lib/ports/event-sink.ts';
import { AppendFile } from './append-file.ts';

type Waiter = { resolve(): void; reject(error: unknown): void };

/**
 * Locally, events are appended to events.jsonl in the data dir, one JSON object a line.
 * Publishes that arrive while an append is running are written together by the next one
 * (a group commit): each still resolves only once its own lines are in the file, and fails
 * with the append that carried them. The file stays open between appends (append-file.ts).
 */
export class LocalEventSink implements EventSink {
  readonly #file: AppendFile;
  #pending: { text: string; waiters: Waiter[] } | null = null;
  #writing = false;

  constructor(options: { path: string }) {
    this.#file = new AppendFile(options.path);
  }

  publish(events: readonly DomainEvent[]): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    const text = events.map((event) => `${JSON.stringify(event)}\n`).join('');
    return new Promise<void>((resolve, reject) => {
      this.#pending ??= { text: '', waiters: [] };
      this.#pending.text += text;
      this.#pending.waiters.push({ resolve, reject });
      if (!this.#writing) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#writing = true;
    while (this.#pending) {
      const group = this.#pending;
      this.#pending = null;
      try {
        await this.#file.append(group.text);
        for (const waiter of group.waiters) waiter.resolve();
      } catch (error) {
        for (const waiter of group.waiters) waiter.reject(error);
      }
    }
    this.#writing = false;
  }
}
