// The ack worker's dependencies, results and retry error, shared by its modules (send-ack.ts).

import type { BusinessConfig } from '#lib/domain/business-config.ts';
import type { SenderRegistry } from '#lib/ports/channel-sender.ts';
import type { Clock } from '#lib/ports/clock.ts';
import type { ConversationStore } from '#lib/ports/conversation-store.ts';
import { SendError } from '#lib/ports/errors.ts';
import type { EventSink } from '#lib/ports/event-sink.ts';
import type { Log } from '#lib/ports/logger.ts';
import type { Metrics } from '#lib/ports/metrics.ts';

export type SendAckDeps = {
  store: ConversationStore;
  senders: SenderRegistry;
  clock: Clock;
  log: Log;
  metrics: Metrics;
  business: BusinessConfig;
  ack: { leaseMs: number; maxAttempts: number };
  /** [0, 1): the retry backoff's jitter; tests pin it. */
  random?: () => number;
  /**
   * The event fan-out the store publishes through. When given, a sent message's events go out
   * before the write that marks it sent, and that write carries none: no clearing write after
   * it (one conversation write, 8–16 WRU, fewer per ack).
   */
  events?: EventSink;
};

export type SendAckResult =
  | { kind: 'sent'; messageId: string }
  /**
   * A call's ack whose SMS the provider refused for the number (refusedForNumber): the promise its
   * greeting spoke is the ack, the customer told (`spoken-on-call`). Counted in AcksSent, as a call's
   * SMS ack reported undelivered to a landline (30006) is.
   */
  | { kind: 'spoken' }
  | { kind: 'skipped'; reason: string }
  | { kind: 'failed'; reason: string }
  | { kind: 'nothing-to-do'; reason: 'stale' | 'done' | 'leased' | 'not-yet' | 'missing' };

/** A transient send failure: the queue delivers the job again (and, in the end, to the DLQ). */
export class AckRetryError extends SendError {
  /** The last attempt: the ack is marked failed, the job goes on to the DLQ. */
  readonly final: boolean;
  constructor(reason: string, cause: unknown, final: boolean) {
    super(`automatic message not sent yet: ${reason}`, { permanent: false, cause });
    this.final = final;
  }
}
