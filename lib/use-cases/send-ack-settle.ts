// After a send: the promise an automatic message stated, its events announced ahead of the settling write.

import type { Conversation, Slot } from '#lib/domain/conversation.ts';
import type { DomainEvent } from '#lib/domain/events.ts';
import { computePromise, type ReplyPromise } from '#lib/domain/promise.ts';
import type { EventSink } from '#lib/ports/event-sink.ts';
import type { SendAckDeps } from './send-ack-deps.ts';

/** Delivers events ahead of the write that records them; false (logged) when the fan-out failed. */
async function announce(
  deps: SendAckDeps,
  events: EventSink,
  batch: Parameters<EventSink['publish']>[0],
  conversationId: string,
): Promise<boolean> {
  try {
    await events.publish(batch);
    return true;
  } catch (error) {
    deps.log.warn('events not delivered yet; they stay in the outbox', {
      conversationId,
      error: (error as Error).name,
    });
    return false;
  }
}

/**
 * The promise an automatic message stored at `at` stated, when it moved the episode's: a
 * notice's always, an ack's when it was held up past the promise (the first worker computed
 * the same).
 */
function statedPromise(
  deps: Pick<SendAckDeps, 'business'>,
  conversation: Conversation,
  slot: Slot,
  at: Date,
): ReplyPromise | undefined {
  const heldUp = slot === 'ack' && Date.parse(conversation.promise?.replyBy ?? '') <= at.getTime();
  return slot === 'notice' || heldUp ? noticePromise(deps, conversation, at) : undefined;
}

/** The honest new time a late notice states: the next promise we can keep from now. */
function noticePromise(
  deps: Pick<SendAckDeps, 'business'>,
  conversation: Conversation,
  at: Date,
): ReplyPromise {
  return computePromise(deps.business, { receivedAt: at, channel: conversation.channel });
}

/**
 * The settling write without the events announced ahead of it (`announced`): `next` is the
 * change applied to `current`. Their numbers are the one the claim reserved (Ack.sequence), the
 * same in every copy. A job claimed by a release before stop 34 reserved none: after a lost race
 * another writer may have numbered events since the claim, and the copies this write made of the
 * announced ones then carry numbers nobody heard, given back here so the next event takes them
 * rather than leave a number missing for good.
 */
function withoutAnnouncedCopies(announced: readonly DomainEvent[]) {
  const heard = new Map(announced.map((event) => [event.id, event.sequence]));
  return (next: Conversation, current: Conversation): Conversation => {
    if (next === current) return current;
    const added = next.outbox.filter((event) => !current.outbox.some((old) => old.id === event.id));
    const copies = added.filter((event) => heard.has(event.id));
    const renumbered =
      copies.length > 0 &&
      copies.length === added.length &&
      copies.some((event) => event.sequence !== heard.get(event.id));
    return {
      ...next,
      outbox: next.outbox.filter((event) => !heard.has(event.id)),
      ...(renumbered ? { eventSequence: current.eventSequence } : {}),
    };
  };
}

export { announce, statedPromise, withoutAnnouncedCopies };
