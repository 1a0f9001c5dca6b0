import type { BusinessConfig } from '#lib/domain/business-config.ts';
import type { Channel } from '#lib/domain/channel.ts';
import type { AckQueue } from '#lib/ports/ack-queue.ts';
import type { Clock } from '#lib/ports/clock.ts';
import type { ConversationStore } from '#lib/ports/conversation-store.ts';
import type { EventSink } from '#lib/ports/event-sink.ts';
import type { Log } from '#lib/ports/logger.ts';
import type { Metrics } from '#lib/ports/metrics.ts';

/** What recordInbound and its steps (record-inbound-*.ts) work with. */
export type RecordInboundDeps = {
  store: ConversationStore;
  queue: AckQueue;
  clock: Clock;
  log: Log;
  metrics: Metrics;
  business: BusinessConfig;
  /** Whether we can answer on this provider + channel at all, to this customer address (voice: by SMS to the caller). */
  canSendOn: (provider: string, channel: Channel, customer: string) => boolean;
  /**
   * The store under the publishing one, and the event fan-out. When given, a write that queues
   * an ack delivers its events without the clearing write: the ack job names them and the
   * worker's claim, a write of the same conversation that follows anyway, removes them.
   */
  deferredClear?: { store: ConversationStore; events: EventSink };
  /**
   * A message recorded later than received (a webhook the store could not take, recorded by
   * the worker): the time of the store's writes, `clock` giving the receipt time. Stored on the
   * message (recordedAt): a reply written before it was answering other messages.
   */
  recordingClock?: Clock;
};
