import type { DomainEvent } from '#lib/domain/events.ts';

/** Where events for downstream tools go (EventBridge on AWS, a local file locally). */
export interface EventSink {
  /** Delivers every event or throws; a retry may deliver some twice (ids are stable). */
  publish(events: readonly DomainEvent[]): Promise<void>;
}
