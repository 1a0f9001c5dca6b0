// The bench's in-memory ports: ConversationStore (its contact half: memory-contacts.ts) and AckQueue.
import type { Conversation } from '#lib/domain/conversation.ts';
import type { DomainEvent } from '#lib/domain/events.ts';
import { stableId } from '#lib/domain/ids.ts';
import { sendingProvider } from '#lib/domain/mail-thread.ts';
import type { DeliveryStatus, DeliveryUpdate, Message } from '#lib/domain/message.ts';
import type { AckJob, AckQueue } from '#lib/ports/ack-queue.ts';
import type {
  ConversationPage,
  ConversationQuery,
  ConversationStore,
  MessagePage,
} from '#lib/ports/conversation-store.ts';
import { ConcurrentUpdateError } from '#lib/ports/errors.ts';
import { MemoryContacts } from './memory-contacts.ts';

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
export class MemoryConversationStore extends MemoryContacts implements ConversationStore {
  readonly #messages = new Map<string, Message>();
  readonly #conversations = new Map<string, Conversation>();
  readonly #aliases = new Map<string, string>();
  readonly #held = new Map<string, DeliveryUpdate>();
  readonly #reported = new Map<string, { provider: string; providerMessageId: string }>();
  readonly #sameMessages = new Map<string, { provider: string; providerMessageId: string }>();
  readonly #lateTexts = new Map<string, string>();
  readonly #remembered = new Map<string, { content: string; expiresAt: number }>();

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
    const alias = this.#aliases.get(`${sendingProvider(provider)}:${providerMessageId}`);
    return alias ? (this.#messages.get(alias) ?? null) : null;
  }

  async findSentMail(ids: readonly string[], providers: readonly string[]): Promise<Message | null> {
    for (const id of ids) {
      for (const provider of providers) {
        const message = this.#messages.get(this.#aliases.get(`${provider}:${id}`) ?? '');
        if (message?.direction === 'outbound' && message.channel === 'email') return message;
      }
    }
    return null;
  }

  async putProviderAlias(
    provider: string,
    providerMessageId: string,
    messageId: string,
  ): Promise<DeliveryUpdate | null> {
    this.#aliases.set(`${sendingProvider(provider)}:${providerMessageId}`, messageId);
    return this.#held.get(`${sendingProvider(provider)}:${providerMessageId}`) ?? null;
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

  async waitingForChannel(): Promise<ConversationPage> {
    return { items: [], nextCursor: null, unreadable: [] };
  }

  async countWaitingForChannel(): Promise<number> {
    return 0;
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
