import { randomUUID } from 'node:crypto';
import type { Contact } from '#lib/domain/contact.ts';
import type { Conversation } from '#lib/domain/conversation.ts';
import type { DomainEvent } from '#lib/domain/events.ts';
import { stableId } from '#lib/domain/ids.ts';
import type { DeliveryStatus, DeliveryUpdate, Message } from '#lib/domain/message.ts';
import type { AckJob, AckQueue } from '#lib/ports/ack-queue.ts';
import type {
  ContactAlias,
  ContactCarry,
  ContactKeeps,
  ContactTouch,
  ConversationPage,
  ConversationQuery,
  ConversationStore,
  LastAck,
  MessagePage,
  OpenConversationClaim,
} from '#lib/ports/conversation-store.ts';
import { ConcurrentUpdateError } from '#lib/ports/errors.ts';

const RANK: Record<DeliveryStatus, number> = {
  queued: 0,
  sent: 1,
  undelivered: 2,
  failed: 2,
  delivered: 3,
  read: 4,
};

/**
 * The ConversationStore in this process's memory, with the DynamoDB adapter's conditions
 * (claim unless open, put unless present, save on the version read). It is the floor of the
 * bench's "front" figure: what the HTTP path costs when storing costs next to nothing. Not a
 * test double: nothing but the bench uses it, and it keeps no indexes (listings are linear).
 */
export class MemoryConversationStore implements ConversationStore {
  readonly #contacts = new Map<string, Contact>();
  readonly #consentAt = new Map<string, string>();
  readonly #messages = new Map<string, Message>();
  readonly #conversations = new Map<string, Conversation>();
  readonly #aliases = new Map<string, string>();
  readonly #contactAliases = new Map<string, ContactAlias & { previousContactKey?: string }>();
  readonly #held = new Map<string, DeliveryUpdate>();
  readonly #reported = new Map<string, { provider: string; providerMessageId: string }>();
  readonly #sameMessages = new Map<string, { provider: string; providerMessageId: string }>();
  readonly #lateTexts = new Map<string, string>();
  readonly #remembered = new Map<string, { content: string; expiresAt: number }>();

  async getContact(key: string): Promise<Contact | null> {
    return this.#contacts.get(key) ?? null;
  }

  async claimOpenConversation(
    key: string,
    candidateId: string,
    touch: ContactTouch,
    replacing?: string,
    claimToken?: string | null,
  ): Promise<OpenConversationClaim> {
    const contact = this.#contacts.get(key);
    const open = contact?.openConversationId ?? null;
    const claimedSince = claimToken !== undefined && (contact?.claimToken ?? null) !== claimToken;
    if (contact && open !== null && (open !== replacing || claimedSince))
      return { conversationId: open, contact };
    const now = touch.now.toISOString();
    const claimed: Contact = {
      key,
      channels: [...new Set([...(contact?.channels ?? []), touch.channel])].sort(),
      openConversationId: candidateId,
      claimToken: randomUUID(),
      conversationIds: [
        ...(contact?.conversationIds ?? []),
        ...(replacing === candidateId ? [] : [candidateId]),
      ],
      optedOut: contact?.optedOut ?? false,
      createdAt: contact?.createdAt ?? now,
      updatedAt: now,
      ...(contact?.lastAckAt ? { lastAckAt: contact.lastAckAt } : {}),
      ...(contact?.lastAckConversationId ? { lastAckConversationId: contact.lastAckConversationId } : {}),
      ...(touch.lastAck
        ? { lastAckAt: touch.lastAck.at, lastAckConversationId: touch.lastAck.conversationId }
        : {}),
      ...((touch.lastReplyAt ?? contact?.lastReplyAt)
        ? { lastReplyAt: touch.lastReplyAt ?? contact?.lastReplyAt }
        : {}),
      ...((touch.locale ?? contact?.locale) ? { locale: touch.locale ?? contact?.locale } : {}),
      ...((touch.name ?? contact?.name) ? { name: touch.name ?? contact?.name } : {}),
    };
    this.#contacts.set(key, claimed);
    return { conversationId: candidateId, contact: claimed };
  }

  async resolveAlias(aliasKey: string): Promise<ContactAlias | null> {
    const alias = this.#contactAliases.get(aliasKey);
    return alias ? { contactKey: alias.contactKey, address: alias.address } : null;
  }

  async linkAlias(aliasKey: string, alias: ContactAlias, now: Date): Promise<void> {
    await this.writeAlias(aliasKey, alias, now);
    await this.markAliasLinked(alias.contactKey, aliasKey);
  }

  async writeAlias(aliasKey: string, alias: ContactAlias, _now: Date): Promise<string | null> {
    const old = this.#contactAliases.get(aliasKey);
    if (old?.contactKey === alias.contactKey && old.address === alias.address)
      return old.previousContactKey || null;
    this.#contactAliases.set(aliasKey, { ...alias, previousContactKey: old?.contactKey ?? '' });
    return old && old.contactKey !== alias.contactKey ? old.contactKey : null;
  }

  async markAliasLinked(contactKey: string, aliasKey: string): Promise<void> {
    const contact = this.#contacts.get(contactKey);
    if (contact) {
      const aliasKeys = [...new Set([...(contact.aliasKeys ?? []), aliasKey])].sort();
      this.#contacts.set(contactKey, { ...contact, aliasKeys });
    }
  }

  async carryContact(key: string, carried: ContactCarry, now: Date): Promise<Contact> {
    const iso = now.toISOString();
    const contact = this.#contacts.get(key);
    const carriedTo: Contact = {
      channels: [],
      openConversationId: null,
      conversationIds: [],
      optedOut: false,
      createdAt: iso,
      ...(carried.name ? { name: carried.name } : {}),
      ...(carried.locale ? { locale: carried.locale } : {}),
      ...contact,
      ...(carried.conversationId ? { carriedConversationId: carried.conversationId } : {}),
      key,
      updatedAt: iso,
    };
    carriedTo.channels = [...new Set([...carriedTo.channels, carried.channel])].sort();
    this.#contacts.set(key, carriedTo);
    return carriedTo;
  }

  async keepLastAck(key: string, lastAck: LastAck): Promise<void> {
    const contact = this.#contacts.get(key);
    if (!contact || (contact.lastAckAt && contact.lastAckAt > lastAck.at)) return;
    this.#contacts.set(key, {
      ...contact,
      lastAckAt: lastAck.at,
      lastAckConversationId: lastAck.conversationId,
    });
  }

  async touchContact(key: string, touch: ContactTouch): Promise<void> {
    const contact = this.#contacts.get(key);
    if (!contact) return;
    this.#contacts.set(key, {
      ...contact,
      channels: [...new Set([...contact.channels, touch.channel])].sort(),
      updatedAt: touch.now.toISOString(),
      ...(touch.name ? { name: touch.name } : {}),
      ...(touch.locale ? { locale: touch.locale } : {}),
    });
  }

  async renewClaim(key: string, conversationId: string, claimToken: string): Promise<boolean> {
    const contact = this.#contacts.get(key);
    if (contact?.openConversationId !== conversationId || contact.claimToken !== claimToken) return false;
    this.#contacts.set(key, { ...contact, claimToken: randomUUID() });
    return true;
  }

  async releaseOpenConversation(
    key: string,
    conversationId: string,
    now: Date,
    kept?: ContactKeeps | null,
    claimToken?: string | null,
  ): Promise<void> {
    const lastAck = kept?.lastAck;
    const contact = this.#contacts.get(key);
    if (contact?.openConversationId !== conversationId) return;
    if (claimToken !== undefined && (contact.claimToken ?? null) !== claimToken) return;
    this.#contacts.set(key, {
      ...contact,
      openConversationId: null,
      updatedAt: now.toISOString(),
      ...(lastAck ? { lastAckAt: lastAck.at, lastAckConversationId: lastAck.conversationId } : {}),
      ...(kept?.lastReplyAt ? { lastReplyAt: kept.lastReplyAt } : {}),
    });
  }

  async keepLastReply(key: string, at: Date): Promise<void> {
    const contact = this.#contacts.get(key);
    const iso = at.toISOString();
    if (!contact || (contact.lastReplyAt && contact.lastReplyAt > iso)) return;
    this.#contacts.set(key, { ...contact, lastReplyAt: iso });
  }

  async putMessage(message: Message): Promise<{ created: boolean; message: Message }> {
    const stored = this.#messages.get(message.id);
    if (stored) return { created: false, message: stored };
    this.#messages.set(message.id, message);
    return { created: true, message };
  }

  async getMessage(id: string): Promise<Message | null> {
    return this.#messages.get(id) ?? null;
  }

  async repointMessage(messageId: string, from: string, to: string): Promise<Message> {
    const stored = this.#messages.get(messageId);
    if (!stored) throw new ConcurrentUpdateError(`message ${messageId}`);
    if (stored.conversationId !== from) return stored;
    const moved = { ...stored, conversationId: to };
    this.#messages.set(messageId, moved);
    return moved;
  }

  async getConversation(id: string): Promise<Conversation | null> {
    return this.#conversations.get(id) ?? null;
  }

  async saveConversation(conversation: Conversation, expectedVersion: number | null): Promise<Conversation> {
    const stored = this.#conversations.get(conversation.id);
    if ((stored?.version ?? null) !== expectedVersion) {
      throw new ConcurrentUpdateError(`conversation ${conversation.id}`);
    }
    const saved = { ...conversation, version: (expectedVersion ?? 0) + 1 };
    this.#conversations.set(saved.id, saved);
    return saved;
  }

  // No item size limit in memory: the outbox is never moved aside, so nothing is ever spilled.
  async spilledEvents(): Promise<DomainEvent[]> {
    return [];
  }

  async dropSpilledEvents(): Promise<void> {}

  async listConversations(query: ConversationQuery): Promise<ConversationPage> {
    const items = [...this.#conversations.values()]
      .filter((c) => c.status === query.status && (!query.channel || c.channel === query.channel))
      .sort((a, b) => b.lastMessageAt.localeCompare(a.lastMessageAt))
      .slice(0, query.limit);
    return { items, nextCursor: null, unreadable: [] };
  }

  async listMessages(conversationId: string, page: MessagePage): Promise<Message[]> {
    const key = (m: Pick<Message, 'createdAt' | 'id'>) => `${m.createdAt}#${m.id}`;
    const before = page.before ? key(page.before) : undefined;
    return [...this.#messages.values()]
      .filter((m) => m.conversationId === conversationId && (!before || key(m) < before))
      .sort((a, b) => key(a).localeCompare(key(b)))
      .slice(-page.limit);
  }

  async lastInboundOn(conversationId: string, channel: Message['channel']): Promise<Message | null> {
    const messages = await this.listMessages(conversationId, { limit: 2_000 });
    return messages.findLast((m) => m.direction === 'inbound' && m.channel === channel) ?? null;
  }

  async findByProviderId(provider: string, providerMessageId: string): Promise<Message | null> {
    const inbound = this.#messages.get(stableId('msg', `${provider}:${providerMessageId}`));
    if (inbound) return inbound;
    const alias = this.#aliases.get(`${provider}:${providerMessageId}`);
    return alias ? (this.#messages.get(alias) ?? null) : null;
  }

  async putProviderAlias(
    provider: string,
    providerMessageId: string,
    messageId: string,
  ): Promise<DeliveryUpdate | null> {
    this.#aliases.set(`${provider}:${providerMessageId}`, messageId);
    return this.#held.get(`${provider}:${providerMessageId}`) ?? null;
  }

  async claimSameMessage(
    key: string,
    first: { provider: string; providerMessageId: string },
  ): Promise<{ provider: string; providerMessageId: string }> {
    const held = this.#sameMessages.get(key) ?? first;
    this.#sameMessages.set(key, held);
    return held;
  }

  async sameMessage(key: string): Promise<{ provider: string; providerMessageId: string } | null> {
    return this.#sameMessages.get(key) ?? null;
  }

  async holdDelivery(update: DeliveryUpdate): Promise<boolean> {
    const key = `${update.provider}:${update.providerMessageId}`;
    if (this.#aliases.has(key)) return false;
    const held = this.#held.get(key);
    if (!held || RANK[held.status] < RANK[update.status]) this.#held.set(key, update);
    return true;
  }

  async noteReportedSend(report: { messageId: string; provider: string; providerMessageId: string }) {
    if (!this.#reported.has(report.messageId)) this.#reported.set(report.messageId, report);
  }

  async reportedSend(messageId: string): Promise<{ provider: string; providerMessageId: string } | null> {
    return this.#reported.get(messageId) ?? null;
  }

  async updateDelivery(messageId: string, update: DeliveryUpdate): Promise<Message | null> {
    const stored = this.#messages.get(messageId);
    const current = stored?.delivery ? RANK[stored.delivery.status as DeliveryStatus] : -1;
    if (!stored || current >= RANK[update.status]) return null;
    const updated: Message = {
      ...stored,
      delivery: {
        status: update.status,
        updatedAt: update.at,
        ...(update.errorCode ? { errorCode: update.errorCode } : {}),
      },
    };
    this.#messages.set(messageId, updated);
    return updated;
  }

  async setConsent(key: string, optedOut: boolean, at: Date): Promise<boolean> {
    const contact = this.#contacts.get(key);
    const iso = at.toISOString();
    // As the DynamoDB store: consent only moves forward in time.
    const latest = this.#consentAt.get(key);
    if (latest !== undefined && latest > iso) return false;
    this.#consentAt.set(key, iso);
    this.#contacts.set(key, {
      channels: [],
      openConversationId: null,
      conversationIds: [],
      createdAt: iso,
      ...contact,
      key,
      optedOut,
      updatedAt: iso,
    });
    return true;
  }

  async bindOnce(key: string, content: string, ttlSeconds: number, now: Date): Promise<boolean> {
    const seconds = Math.floor(now.getTime() / 1000);
    const bound = this.#remembered.get(key);
    if (bound !== undefined && bound.expiresAt >= seconds && bound.content !== content) return false;
    this.#remembered.set(key, { content, expiresAt: Math.ceil(now.getTime() / 1000) + ttlSeconds });
    return true;
  }

  async completeText(messageId: string, text: string): Promise<void> {
    this.#lateTexts.set(messageId, text);
    await this.takeLateText(messageId);
  }

  async takeLateText(messageId: string): Promise<Message | null> {
    const text = this.#lateTexts.get(messageId);
    const stored = this.#messages.get(messageId);
    if (text === undefined || !stored) return null;
    const updated = { ...stored, text };
    this.#messages.set(messageId, updated);
    return updated;
  }

  async dueForSweep(): Promise<ConversationPage> {
    // The sweeper's index is not kept here: the front figure never sweeps.
    return { items: [], nextCursor: null, unreadable: [] };
  }

  /** How many messages are stored (the bench checks the subject really recorded them). */
  get messageCount(): number {
    return this.#messages.size;
  }
}

/** The AckQueue as an in-memory list: the front figure's queue, never drained. */
export class MemoryAckQueue implements AckQueue {
  readonly jobs: AckJob[] = [];

  async enqueue(job: AckJob): Promise<void> {
    this.jobs.push(job);
  }

  async deferInbound(): Promise<void> {
    throw new Error('the front figure never defers a webhook');
  }
}
