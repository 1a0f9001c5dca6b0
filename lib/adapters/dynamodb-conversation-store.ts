// The ConversationStore on DynamoDB: the port's one class, each method handed to the part holding its items.

import type { Contact, OptOutReason } from '#lib/domain/contact.ts';
import type { Conversation } from '#lib/domain/conversation.ts';
import type { DomainEvent } from '#lib/domain/events.ts';
import type { DeliveryUpdate, Message } from '#lib/domain/message.ts';
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
import { DynamoDbContactClaims } from './dynamodb-contact-claims.ts';
import { DynamoDbContacts } from './dynamodb-contacts.ts';
import { DynamoDbConversationListings } from './dynamodb-conversation-listings.ts';
import { DynamoDbConversations } from './dynamodb-conversations.ts';
import { DynamoDbDeliveries } from './dynamodb-deliveries.ts';
import { DynamoDbMessages } from './dynamodb-messages.ts';
import type { DynamoDbConversationStoreOptions } from './dynamodb-store-items.ts';

export type { DynamoDbConversationStoreOptions } from './dynamodb-store-items.ts';

/**
 * The ConversationStore on DynamoDB: one table, single-item conditional writes only, so it
 * runs unchanged on dynalite (no transactions, no streams) and on AWS.
 */
export class DynamoDbConversationStore implements ConversationStore {
  readonly #claims: DynamoDbContactClaims;
  readonly #contacts: DynamoDbContacts;
  readonly #messages: DynamoDbMessages;
  readonly #deliveries: DynamoDbDeliveries;
  readonly #conversations: DynamoDbConversations;
  readonly #listings: DynamoDbConversationListings;

  constructor(options: DynamoDbConversationStoreOptions) {
    this.#claims = new DynamoDbContactClaims(options);
    this.#contacts = new DynamoDbContacts(options);
    this.#messages = new DynamoDbMessages(options);
    this.#deliveries = new DynamoDbDeliveries(options);
    this.#conversations = new DynamoDbConversations(options);
    this.#listings = new DynamoDbConversationListings(options);
  }

  getContact(key: string): Promise<Contact | null> {
    return this.#claims.getContact(key);
  }

  claimOpenConversation(
    key: string,
    candidateId: string,
    touch: ContactTouch,
    replacing?: string,
    claimToken?: string | null,
  ): Promise<OpenConversationClaim> {
    return this.#claims.claimOpenConversation(key, candidateId, touch, replacing, claimToken);
  }

  renewClaim(key: string, conversationId: string, claimToken: string): Promise<boolean> {
    return this.#claims.renewClaim(key, conversationId, claimToken);
  }

  resolveAlias(aliasKey: string): Promise<ContactAlias | null> {
    return this.#contacts.resolveAlias(aliasKey);
  }

  linkAlias(aliasKey: string, alias: ContactAlias, now: Date): Promise<void> {
    return this.#contacts.linkAlias(aliasKey, alias, now);
  }

  writeAlias(aliasKey: string, alias: ContactAlias, now: Date): Promise<string | null> {
    return this.#contacts.writeAlias(aliasKey, alias, now);
  }

  markAliasLinked(contactKey: string, aliasKey: string): Promise<void> {
    return this.#contacts.markAliasLinked(contactKey, aliasKey);
  }

  carryContact(key: string, carried: ContactCarry, now: Date): Promise<Contact> {
    return this.#contacts.carryContact(key, carried, now);
  }

  keepLastAck(key: string, lastAck: LastAck): Promise<void> {
    return this.#contacts.keepLastAck(key, lastAck);
  }

  touchContact(key: string, touch: ContactTouch): Promise<void> {
    return this.#contacts.touchContact(key, touch);
  }

  releaseOpenConversation(
    key: string,
    conversationId: string,
    now: Date,
    kept?: ContactKeeps | null,
    claimToken?: string | null,
  ): Promise<void> {
    return this.#claims.releaseOpenConversation(key, conversationId, now, kept, claimToken);
  }

  putMessage(message: Message): Promise<{ created: boolean; message: Message }> {
    return this.#messages.putMessage(message);
  }

  getMessage(id: string): Promise<Message | null> {
    return this.#messages.getMessage(id);
  }

  repointMessage(messageId: string, from: string, to: string): Promise<Message> {
    return this.#messages.repointMessage(messageId, from, to);
  }

  getConversation(id: string): Promise<Conversation | null> {
    return this.#conversations.getConversation(id);
  }

  saveConversation(conversation: Conversation, expectedVersion: number | null): Promise<Conversation> {
    return this.#conversations.saveConversation(conversation, expectedVersion);
  }

  spilledEvents(conversationId: string, limit: number): Promise<DomainEvent[]> {
    return this.#conversations.spilledEvents(conversationId, limit);
  }

  dropSpilledEvents(conversationId: string, events: readonly DomainEvent[]): Promise<void> {
    return this.#conversations.dropSpilledEvents(conversationId, events);
  }

  listConversations(query: ConversationQuery): Promise<ConversationPage> {
    return this.#listings.listConversations(query);
  }

  listMessages(conversationId: string, page: MessagePage): Promise<Message[]> {
    return this.#messages.listMessages(conversationId, page);
  }

  lastInboundOn(conversationId: string, channel: Message['channel']): Promise<Message | null> {
    return this.#messages.lastInboundOn(conversationId, channel);
  }

  findByProviderId(provider: string, providerMessageId: string): Promise<Message | null> {
    return this.#messages.findByProviderId(provider, providerMessageId);
  }
  findSentMail(ids: readonly string[], providers: readonly string[]): Promise<Message | null> {
    return this.#messages.findSentMail(ids, providers);
  }

  putProviderAlias(
    provider: string,
    providerMessageId: string,
    messageId: string,
  ): Promise<DeliveryUpdate | null> {
    return this.#deliveries.putProviderAlias(provider, providerMessageId, messageId);
  }

  claimSameMessage(
    key: string,
    first: { provider: string; providerMessageId: string },
    ttlSeconds: number,
    now: Date,
  ): Promise<{ provider: string; providerMessageId: string }> {
    return this.#deliveries.claimSameMessage(key, first, ttlSeconds, now);
  }

  sameMessage(key: string): Promise<{ provider: string; providerMessageId: string } | null> {
    return this.#deliveries.sameMessage(key);
  }

  holdDelivery(update: DeliveryUpdate, ttlSeconds: number, now: Date): Promise<boolean> {
    return this.#deliveries.holdDelivery(update, ttlSeconds, now);
  }

  noteReportedSend(
    report: { messageId: string; provider: string; providerMessageId: string },
    ttlSeconds: number,
    now: Date,
  ): Promise<void> {
    return this.#deliveries.noteReportedSend(report, ttlSeconds, now);
  }

  reportedSend(messageId: string): Promise<{ provider: string; providerMessageId: string } | null> {
    return this.#deliveries.reportedSend(messageId);
  }

  updateDelivery(messageId: string, update: DeliveryUpdate): Promise<Message | null> {
    return this.#deliveries.updateDelivery(messageId, update);
  }

  keepLastReply(key: string, at: Date, asked?: boolean): Promise<void> {
    return this.#contacts.keepLastReply(key, at, asked);
  }

  setConsent(
    key: string,
    optedOut: boolean,
    at: Date,
    reason?: OptOutReason,
    sentAt?: Date,
  ): Promise<boolean> {
    return this.#contacts.setConsent(key, optedOut, at, reason, sentAt);
  }

  markNoSms(key: string, at: Date, sentAt?: Date): Promise<void> {
    return this.#contacts.markNoSms(key, at, sentAt);
  }

  bindOnce(key: string, content: string, ttlSeconds: number, now: Date): Promise<boolean> {
    return this.#deliveries.bindOnce(key, content, ttlSeconds, now);
  }

  completeText(messageId: string, text: string): Promise<void> {
    return this.#messages.completeText(messageId, text);
  }

  takeLateText(messageId: string): Promise<Message | null> {
    return this.#messages.takeLateText(messageId);
  }

  dueForSweep(now: Date, limit: number, cursor?: string): Promise<ConversationPage> {
    return this.#listings.dueForSweep(now, limit, cursor);
  }

  waitingForChannel(
    channel: string,
    now: Date | null,
    limit: number,
    cursor?: string,
  ): Promise<ConversationPage> {
    return this.#listings.waitingForChannel(channel, now, limit, cursor);
  }

  countWaitingForChannel(channel: string, upTo: number): Promise<number> {
    return this.#listings.countWaitingForChannel(channel, upTo);
  }
}
