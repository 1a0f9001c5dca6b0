import type { BusinessConfig } from '#lib/domain/business-config.ts';
import {
  assignConversation,
  type Conversation,
  keptByContact,
  lastReadableInboundAt,
  reopenConversation,
  resolveConversation,
} from '#lib/domain/conversation.ts';
import { withEvent } from '#lib/domain/events.ts';
import { stableId } from '#lib/domain/ids.ts';
import type { Message } from '#lib/domain/message.ts';
import { actingName } from '#lib/domain/signer.ts';
import type { SenderRegistry } from '#lib/ports/channel-sender.ts';
import type { Clock } from '#lib/ports/clock.ts';
import type { ConversationStore } from '#lib/ports/conversation-store.ts';
import type { Log } from '#lib/ports/logger.ts';
import { updateConversation } from './conversation-writes.ts';
import { claimForReopen } from './reopen-past-resolved.ts';
import { reclaimTakers, releaseTakers, takersBefore } from './taken-over.ts';

export type AgentDeps = {
  store: ConversationStore;
  senders: SenderRegistry;
  clock: Clock;
  log: Log;
  /** The rota: who signs a reply, and their direct contact. */
  business: BusinessConfig;
  /**
   * Records a stored customer message again, as its provider's retry would (recordInbound): a
   * reopen that gives way moves the messages that joined it meanwhile with this.
   */
  recordAgain?: (message: Message) => Promise<unknown>;
  /** The Meta app may tag a person's late Messenger or Instagram reply HUMAN_AGENT (7 days instead of 24 hours). */
  humanAgent?: boolean;
};

/**
 * Who acts: the API key's agent (`id`, their id in the configuration, signs replies; a key made
 * before keys kept it signs by `name`), or null for a key without one (its replies are signed
 * by the person the conversation's promise named: replySigner). Events and notes name them as
 * the configuration lists them now (actingName), not by the name the key stored.
 */
export type Agent = { keyId: string; name: string | null; id?: string | null };

/**
 * The reply or note an attempt of this request stored before stop 25, under the id it derived
 * from the API key and Idempotency-Key alone (`legacyRequestKey`, given only to the retry of a
 * request whose idempotency record is still live): its retry after the deploy finishes it
 * instead of sending it again. Its text must be the one asked for now, so that a reply a key
 * carried before its record expired is never taken for a new body under that key (why ids
 * derive from the body since). One GetItem, on a retry only. Remove 24 hours after stop 25 is
 * deployed.
 */
export async function storedBeforeStop25(
  store: ConversationStore,
  kind: 'reply' | 'note',
  conversationId: string,
  legacyRequestKey: string | null | undefined,
  text: string,
): Promise<Message | null> {
  if (!legacyRequestKey) return null;
  const stored = await store.getMessage(stableId('msg', `${kind}:${conversationId}:${legacyRequestKey}`));
  if (stored?.kind !== kind || stored.conversationId !== conversationId) return null;
  // A reply was stored signed (signReply: the text, then its signature); a note as written.
  const asked = text.trim();
  const same = kind === 'note' ? stored.text === asked : stored.text.startsWith(`${asked}\n`);
  return same ? stored : null;
}

export type ChangeResult =
  | { kind: 'changed'; conversation: Conversation }
  | { kind: 'not-found' }
  /** The contact has another open conversation (its id): a contact has one open at a time. */
  | { kind: 'other-open'; conversationId: string };

/** An assignment never conflicts: the last one wins. */
export type AssignResult = { kind: 'changed'; conversation: Conversation } | { kind: 'not-found' };

/** A resolve never conflicts, but it is refused when the customer wrote after what the agent saw. */
export type ResolveResult =
  | { kind: 'changed'; conversation: Conversation }
  | { kind: 'not-found' }
  /**
   * Not resolved: the conversation as it is, and when the customer's newest message became
   * readable (received, or recorded late): the `seenUntil` that passes once the agent saw it.
   */
  | { kind: 'customer-wrote'; conversation: Conversation; lastReadableAt: string };

/**
 * Resolves a conversation (twice is harmless) and frees the contact for a new one. With
 * `seenUntil` (the newest `createdAt` or `recordedAt` of the messages the agent saw), not if the
 * customer wrote after it, or a message of theirs recorded late was stored after it: checked in
 * the same conditional write as the resolve, so a message applied a moment before is never
 * resolved unread (one applied after opens a new conversation).
 */
export async function resolve(
  deps: AgentDeps,
  conversationId: string,
  agent: Agent,
  options: { seenUntil?: Date } = {},
): Promise<ResolveResult> {
  const now = deps.clock.now();
  const before = await deps.store.getConversation(conversationId);
  if (!before) return { kind: 'not-found' };
  // The contact's claim as it stands before the resolve (a new number's too): released only if it
  // is still that one, so a reopen racing this resolve keeps the contact pointing at the
  // conversation it reopened.
  const contact = await deps.store.getContact(before.contact.key);
  const takers = await takersBefore(deps.store, before);
  let changed = false;
  let customerWrote: string | null = null;
  const { seenUntil } = options;
  const name = actingName(deps.business, agent);
  const resolved = await updateConversation(
    deps.store,
    conversationId,
    (current) => {
      // Receipt time alone would pass a message the worker recorded after the agent looked.
      const wrote = lastReadableInboundAt(current);
      customerWrote =
        seenUntil !== undefined &&
        current.status === 'open' &&
        wrote !== null &&
        Date.parse(wrote) > seenUntil.getTime()
          ? wrote
          : null;
      const next = customerWrote ? current : resolveConversation(current, now, name);
      changed = next !== current;
      return next;
    },
    before,
  );
  if (!resolved) return { kind: 'not-found' };
  if (customerWrote) return { kind: 'customer-wrote', conversation: resolved, lastReadableAt: customerWrote };
  // The next message of this contact opens a new conversation; a crash before this write (or
  // a release refused because of a newer claim) is finished by recordInbound, which moves a
  // message off a resolved conversation. A resolve that changed nothing releases nothing.
  if (changed && contact?.openConversationId === resolved.id) {
    await deps.store.releaseOpenConversation(
      resolved.contact.key,
      resolved.id,
      now,
      keptByContact(resolved, contact),
      contact.claimToken ?? null,
    );
  }
  if (changed) await releaseTakers(deps.store, resolved, takers, now);
  return { kind: 'changed', conversation: resolved };
}

/** Opens a resolved conversation again, unless the contact already has another open one. */
export async function reopen(deps: AgentDeps, conversationId: string, agent: Agent): Promise<ChangeResult> {
  const conversation = await deps.store.getConversation(conversationId);
  if (!conversation) return { kind: 'not-found' };
  const now = deps.clock.now();
  const key = conversation.contact.key;
  const name = actingName(deps.business, agent);
  const conflict = (id: string): ChangeResult => ({ kind: 'other-open', conversationId: id });
  let reopened: Conversation = conversation;
  let claimToken: string | undefined;
  if (conversation.status === 'open') {
    // Already open: a second click, or the retry of a reopen that died before it renewed its
    // claim (below). The claim is renewed now, as it would have been then.
    const contact = await deps.store.getContact(key);
    if (contact?.openConversationId === conversation.id) claimToken = contact.claimToken;
  } else {
    // The contact's pointer, past another resolved conversation holding it (claimForReopen).
    const open = await claimForReopen(deps.store, conversation, now);
    if (open.conversationId !== conversation.id) return conflict(open.conversationId);
    claimToken = open.contact.claimToken;
    const written = await updateConversation(
      deps.store,
      conversationId,
      (current) => reopenConversation(current, now, name),
      conversation,
    );
    if (!written) return { kind: 'not-found' };
    reopened = written;
  }
  // Our claim renewed now that the conversation is written open: a message that read it still
  // resolved took the contact's token before this, so it can no longer replace the pointer (it
  // reads again and joins; exactly one of the two writes wins). A new number's too (takenOverBy).
  const pointer =
    claimToken && (await deps.store.renewClaim(key, conversation.id, claimToken))
      ? conversation.id
      : ((await deps.store.getContact(key))?.openConversationId ?? null);
  if (pointer === conversation.id)
    return { kind: 'changed', conversation: await reclaimTakers(deps.store, reopened, now) };
  // A message for the resolved conversation opened a new one first: then the contact follows
  // that one, and this one goes back to resolved (one open conversation a contact). No pointer
  // at all: a resolve that came after our reopen released it, and that resolve is the last
  // word. Our own pointer under another token: a second reopen of it.
  if (pointer === null) {
    return { kind: 'changed', conversation: (await deps.store.getConversation(conversationId)) ?? reopened };
  }
  // Customer messages may have joined the conversation while it stood open (a resolved one
  // applies none, so they are the ones its episode gained since our first read): resolving it
  // again would bury them unseen. They leave its episode and go where the contact now points,
  // as a retry of their delivery would take them (recordInbound moves a message it finds in a
  // resolved conversation that never applied it).
  let joined: string[] = [];
  await updateConversation(
    deps.store,
    conversationId,
    (current) => {
      joined = current.episodeMessageIds.filter((id) => !conversation.episodeMessageIds.includes(id));
      const resolved = resolveConversation(current, now, name);
      return joined.length === 0
        ? resolved
        : { ...resolved, episodeMessageIds: resolved.episodeMessageIds.filter((id) => !joined.includes(id)) };
    },
    reopened,
  );
  if (deps.recordAgain) {
    for (const id of joined) {
      const message = await deps.store.getMessage(id);
      if (message) await deps.recordAgain(message);
    }
  }
  return conflict(pointer);
}

/** Assigns (or, with null, unassigns) a conversation. */
export async function assign(
  deps: AgentDeps,
  conversationId: string,
  assignee: string | null,
  agent: Agent,
): Promise<AssignResult> {
  const now = deps.clock.now();
  const assigned = await updateConversation(deps.store, conversationId, (current) =>
    assignConversation(current, assignee, now, actingName(deps.business, agent)),
  );
  return assigned ? { kind: 'changed', conversation: assigned } : { kind: 'not-found' };
}

/**
 * An internal note: stored with the conversation's messages, never sent to the customer, and
 * announced (`note.added`) for the other tools an agent may work in: the event goes on the
 * conversation's outbox after the note is stored, so the retry of a request that died between
 * the two writes announces it then, under the same id.
 */
export async function addNote(
  deps: AgentDeps,
  request: {
    conversationId: string;
    text: string;
    agent: Agent;
    requestKey: string;
    legacyRequestKey?: string | null;
  },
): Promise<{ kind: 'added'; message: Message } | { kind: 'not-found' }> {
  const conversation = await deps.store.getConversation(request.conversationId);
  if (!conversation) return { kind: 'not-found' };
  const agent = actingName(deps.business, request.agent);
  // A note the earlier attempt of this request stored before stop 25 is not added twice.
  const legacy = await storedBeforeStop25(
    deps.store,
    'note',
    conversation.id,
    request.legacyRequestKey,
    request.text,
  );
  const { message } = legacy
    ? { message: legacy }
    : await deps.store.putMessage({
        id: stableId('msg', `note:${conversation.id}:${request.requestKey}`),
        conversationId: conversation.id,
        direction: 'outbound',
        kind: 'note',
        channel: conversation.channel,
        provider: 'switchboard',
        providerMessageId: null,
        from: agent ?? request.agent.keyId,
        to: '',
        text: request.text.trim(),
        media: [],
        createdAt: deps.clock.now().toISOString(),
        contactKey: conversation.contact.key,
      });
  await updateConversation(
    deps.store,
    conversation.id,
    (current) =>
      withEvent(current, 'note.added', message.id, new Date(message.createdAt), {
        messageId: message.id,
        agent,
      }),
    conversation,
  );
  return { kind: 'added', message };
}
