import { type Conversation, hasUndeliveredEvents } from '#lib/domain/conversation.ts';
import type { ConversationStore } from '#lib/ports/conversation-store.ts';
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
      outboxFailures: undefined,
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
  // Every delegate passes its arguments through whole: an optional argument added to the port
  // cannot be dropped here (one was: the release's claim token).
  return {
    getContact: (...args) => inner.getContact(...args),
    claimOpenConversation: (...args) => inner.claimOpenConversation(...args),
    renewClaim: (...args) => inner.renewClaim(...args),
    releaseOpenConversation: (...args) => inner.releaseOpenConversation(...args),
    touchContact: (...args) => inner.touchContact(...args),
    resolveAlias: (...args) => inner.resolveAlias(...args),
    linkAlias: (...args) => inner.linkAlias(...args),
    writeAlias: (...args) => inner.writeAlias(...args),
    markAliasLinked: (...args) => inner.markAliasLinked(...args),
    keepLastReply: (...args) => inner.keepLastReply(...args),
    markNoSms: (...args) => inner.markNoSms(...args),
    carryContact: (...args) => inner.carryContact(...args),
    keepLastAck: (...args) => inner.keepLastAck(...args),
    putMessage: (...args) => inner.putMessage(...args),
    getMessage: (...args) => inner.getMessage(...args),
    repointMessage: (...args) => inner.repointMessage(...args),
    getConversation: (...args) => inner.getConversation(...args),
    async saveConversation(conversation, expectedVersion) {
      const saved = await inner.saveConversation(conversation, expectedVersion);
      return hasUndeliveredEvents(saved) ? publishOutbox({ store: inner, sink, log }, saved) : saved;
    },
    spilledEvents: (...args) => inner.spilledEvents(...args),
    dropSpilledEvents: (...args) => inner.dropSpilledEvents(...args),
    listConversations: (...args) => inner.listConversations(...args),
    listMessages: (...args) => inner.listMessages(...args),
    lastInboundOn: (...args) => inner.lastInboundOn(...args),
    findByProviderId: (...args) => inner.findByProviderId(...args),
    findSentMail: (...args) => inner.findSentMail(...args),
    putProviderAlias: (...args) => inner.putProviderAlias(...args),
    claimSameMessage: (...args) => inner.claimSameMessage(...args),
    sameMessage: (...args) => inner.sameMessage(...args),
    holdDelivery: (...args) => inner.holdDelivery(...args),
    noteReportedSend: (...args) => inner.noteReportedSend(...args),
    reportedSend: (...args) => inner.reportedSend(...args),
    updateDelivery: (...args) => inner.updateDelivery(...args),
    setConsent: (...args) => inner.setConsent(...args),
    bindOnce: (...args) => inner.bindOnce(...args),
    completeText: (...args) => inner.completeText(...args),
    takeLateText: (...args) => inner.takeLateText(...args),
    dueForSweep: (...args) => inner.dueForSweep(...args),
    waitingForChannel: (...args) => inner.waitingForChannel(...args),
    countWaitingForChannel: (...args) => inner.countWaitingForChannel(...args),
  };
}
