// The conversation's outbox of events for downstream tools: its spill past the item's limit, and
// the back-off after a failed delivery.

import type { DomainEvent } from '../events.ts';
import type { Conversation } from './schema.ts';

/**
 * The most events a conversation's outbox keeps on its item (an event is about 250–360 bytes).
 * Events pile up only while the event bus is down; past this the store moves the oldest aside
 * (spillOutbox) rather than let a write approach DynamoDB's 400 KB and fail every time.
 */
export const MAX_OUTBOX_EVENTS = 200;
/** The newest events that stay on the item when it spills: one spill per 150 events, not one per write. */
const OUTBOX_KEPT_ON_SPILL = 50;

/**
 * The outbox past MAX_OUTBOX_EVENTS: the oldest events to move aside (delivered before the
 * rest, in order) and the conversation as written after, which names the newest one moved.
 */
export function spillOutbox(conversation: Conversation): {
  conversation: Conversation;
  spilled: DomainEvent[];
} {
  if (conversation.outbox.length <= MAX_OUTBOX_EVENTS) return { conversation, spilled: [] };
  const spilled = conversation.outbox.slice(0, -OUTBOX_KEPT_ON_SPILL);
  return {
    conversation: {
      ...conversation,
      outbox: conversation.outbox.slice(-OUTBOX_KEPT_ON_SPILL),
      outboxSpill: spilled.at(-1)?.id,
    },
    spilled,
  };
}

/** Events of this conversation wait for the publisher: in its outbox, or moved aside. */
export function hasUndeliveredEvents(conversation: Conversation): boolean {
  return conversation.outbox.length > 0 || conversation.outboxSpill !== undefined;
}

/**
 * The outbox could not be delivered now: the sweeper comes back later (each failure doubles
 * the wait, up to an hour), so a dead event sink cannot keep it from everything else it must do.
 */
export function deferOutbox(conversation: Conversation, now: Date, graceMs: number): Conversation {
  if (!hasUndeliveredEvents(conversation)) return conversation;
  const failures = (conversation.outboxFailures ?? 0) + 1;
  const wait = Math.min(graceMs * 2 ** Math.min(failures - 1, 16), 60 * 60_000);
  return {
    ...conversation,
    outboxRetryAt: new Date(now.getTime() + wait).toISOString(),
    outboxFailures: failures,
  };
}
