import { type Conversation, hasUndeliveredEvents } from '#lib/domain/conversation.ts';
import type { ContactTouch, ConversationStore } from '#lib/ports/conversation-store.ts';
import type { EventSink } from '#lib/ports/event-sink.ts';
import type { Log } from '#lib/ports/logger.ts';
import { trySave, updateConversation } from './conversation-writes.ts';

/** Spilled events delivered per page, and the most pages one delivery takes on (the sweeper comes back for more). */
const SPILL_PAGE = 100;
const MAX_SPILL_PAGES = 50;

/**
 * Delivers a conversation's outbox and clears what was delivered (conditionally, so events
 * added meanwhile stay). Events the store moved aside (an outbox past MAX_OUTBOX_EVENTS) go
 * first, oldest first. A failed delivery leaves the outbox as it is: the sweeper retries, and
 * consumers drop duplicates by the events' stable ids.
 */
export async function publishOutbox(
  deps: { store: ConversationStore; sink: EventSink; log: Log },
  conversation: Conversation,
): Promise<Conversation> {
  if (!hasUndeliveredEvents(conversation)) return conversation;
  try {
    // The outbox waits while older events are still aside (the sweeper comes back for them).
    if (conversation.outboxSpill && !(await publishSpilled(deps, conversation.id))) return conversation;
    if (conversation.outbox.length > 0) await deps.sink.publish(conversation.outbox);
  } catch (error) {
    deps.log.warn('events not delivered yet; the sweeper will retry', {
      conversationId: conversation.id,
      events: conversation.outbox.length,
      error: (error as Error).name,
    });
    return conversation;
  }
  const delivered = new Set(conversation.outbox.map((event) => event.id));
  // The spill is delivered; it is cleared only if nobody moved newer events aside meanwhile.
  const spill = conversation.outboxSpill;
  const clear = (current: Conversation): Conversation => {
    const outbox = current.outbox.filter((event) => !delivered.has(event.id));
    const spillDelivered = spill !== undefined && current.outboxSpill === spill;
    if (outbox.length === current.outbox.length && !spillDelivered) return current;
    return {
      ...current,
      outbox,
      outboxRetryAt: undefined,
      outboxSpill: spillDelivered ? undefined : current.outboxSpill,
    };
  };
  try {
    // Usually nobody wrote since the write that produced the events: clear with that version,
    // without reading the item again; after a lost race, read and retry.
    const direct = await trySave(deps.store, clear(conversation), conversation.version);
    if (direct) return direct;
    const cleared = await updateConversation(deps.store, conversation.id, clear);
    return cleared ?? conversation;
  } catch (error) {
    // Delivered but not cleared (lost races, an outage): the sweeper delivers them again and
    // consumers drop the duplicates by id. Never fail the write that produced the events.
    deps.log.warn('delivered events not cleared yet; the sweeper will retry', {
      conversationId: conversation.id,
      error: (error as Error).name,
    });
    return conversation;
  }
}

/**
 * Delivers and drops the events the store moved aside, a page at a time, oldest first; true
 * once none is left (false: more than one delivery takes on, the sweeper comes back).
 */
async function publishSpilled(
  deps: { store: ConversationStore; sink: EventSink },
  conversationId: string,
): Promise<boolean> {
  for (let page = 0; page < MAX_SPILL_PAGES; page++) {
    const events = await deps.store.spilledEvents(conversationId, SPILL_PAGE);
    if (events.length === 0) return true;
    await deps.sink.publish(events);
    await deps.store.dropSpilledEvents(conversationId, events);
  }
  return false;
}

/**
 * The store every use case writes through: after each conversation write that put events in
 * the outbox, they are delivered at once (and the sweeper covers a crash in between).
 */
export function publishingStore(inner: ConversationStore, sink: EventSink, log: Log): ConversationStore {
  return {
    getContact: (key) => inner.getContact(key),
    claimOpenConversation: (key: string, candidateId: string, touch: ContactTouch, replacing?: string) =>
      inner.claimOpenConversation(key, candidateId, touch, replacing),
    releaseOpenConversation: (key, id, now, lastAck) => inner.releaseOpenConversation(key, id, now, lastAck),
    touchContact: (key, touch) => inner.touchContact(key, touch),
    putMessage: (message) => inner.putMessage(message),
    getMessage: (id) => inner.getMessage(id),
    repointMessage: (id, from, to) => inner.repointMessage(id, from, to),
    getConversation: (id) => inner.getConversation(id),
    async saveConversation(conversation, expectedVersion) {
      const saved = await inner.saveConversation(conversation, expectedVersion);
      return hasUndeliveredEvents(saved) ? publishOutbox({ store: inner, sink, log }, saved) : saved;
    },
    spilledEvents: (id, limit) => inner.spilledEvents(id, limit),
    dropSpilledEvents: (id, events) => inner.dropSpilledEvents(id, events),
    listConversations: (query) => inner.listConversations(query),
    listMessages: (id) => inner.listMessages(id),
    findByProviderId: (provider, id) => inner.findByProviderId(provider, id),
    putProviderAlias: (provider, id, messageId) => inner.putProviderAlias(provider, id, messageId),
    updateDelivery: (id, update) => inner.updateDelivery(id, update),
    setConsent: (key, optedOut, now) => inner.setConsent(key, optedOut, now),
    rememberOnce: (key, ttl, now) => inner.rememberOnce(key, ttl, now),
    isRemembered: (key, now) => inner.isRemembered(key, now),
    completeText: (id, text) => inner.completeText(id, text),
    takeLateText: (id) => inner.takeLateText(id),
    dueForSweep: (now, limit, cursor) => inner.dueForSweep(now, limit, cursor),
  };
}
