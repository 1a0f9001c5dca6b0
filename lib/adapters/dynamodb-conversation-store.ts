import { randomUUID } from 'node:crypto';
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { ChannelSchema, LocaleSchema } from '#lib/domain/channel.ts';
import { type Contact, ContactSchema, MAX_CONTACT_CONVERSATIONS } from '#lib/domain/contact.ts';
import { awaitingOf, type Conversation, ConversationSchema, spillOutbox } from '#lib/domain/conversation.ts';
import { type DomainEvent, DomainEventSchema } from '#lib/domain/events.ts';
import { stableId } from '#lib/domain/ids.ts';
import {
  type DeliveryStatus,
  type DeliveryUpdate,
  DeliveryUpdateSchema,
  type Message,
  MessageSchema,
} from '#lib/domain/message.ts';
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
import { applied } from './dynamodb-conditional.ts';
import { carryContactUpdate, keepLastAckUpdate } from './dynamodb-contact-carry.ts';
import { marshallStored } from './dynamodb-marshall.ts';
import { queryShards, type ShardCount, shardKey, tableKeyFromSortKey } from './dynamodb-shards.ts';

const KEY_ATTRIBUTES = [
  'pk',
  'sk',
  'gsi1pk',
  'gsi1sk',
  'gsi2pk',
  'gsi2sk',
  'gsi3pk',
  'gsi3sk',
  'gsi4pk',
  'gsi4sk',
  'gsi5pk',
  'gsi5sk',
  'type',
  'deliveryRank',
];
const MARSHALL = { removeUndefinedValues: true, convertClassInstanceToMap: false } as const;
// How far back a reply on a chosen channel looks for the customer's address, and a page of it.
const MAX_LAST_INBOUND_LOOKBACK = 2_000;
const LAST_INBOUND_PAGE = 50;
const SPILL_CONCURRENCY = 25;

// Later states win; callbacks arrive duplicated and out of order. A failure outranks "sent"
// but not "delivered" (a late failure callback for a delivered message is noise).
const DELIVERY_RANK: Record<DeliveryStatus, number> = {
  queued: 0,
  sent: 1,
  undelivered: 2,
  failed: 2,
  delivered: 3,
  read: 4,
};

function strip(item: Record<string, AttributeValue>): Record<string, unknown> {
  const plain = unmarshall(item);
  for (const key of KEY_ATTRIBUTES) delete plain[key];
  return plain;
}

export type DynamoDbConversationStoreOptions = {
  client: DynamoDBClient;
  tableName: string;
  /** When the sweeper must next look at a conversation (null: never); from the domain. */
  sweepAt: (conversation: Conversation) => string | null;
  /**
   * How many partitions the single-valued listing keys (`CONVS#<status>`, `AWAITING`, `NOREPLY`,
   * `SWEEP`, `CONVS#<status>#<channel>`) are spread over (dynamodb-shards.ts).
   */
  shards: ShardCount;
};

// Every conversation index sorts by `<time>#<conversation id>`.
const conversationKey = tableKeyFromSortKey('CONV', 'CONV');

/**
 * The ConversationStore on DynamoDB: one table, single-item conditional writes only, so it
 * runs unchanged on dynalite (no transactions, no streams) and on AWS.
 */
// The contact's last acknowledgement and our last reply, written with the write that ends its
// conversation.
const LAST_ACK_UPDATE = ', lastAckAt = :lastAckAt, lastAckConversationId = :lastAckConversation';
const lastAckValues = (lastAck: LastAck) => ({
  ':lastAckAt': lastAck.at,
  ':lastAckConversation': lastAck.conversationId,
});
const LAST_REPLY_UPDATE = ', lastReplyAt = :lastReplyAt';
// Only forward, as keepLastReply: the value was read before this write, and an agent's follow-up
// kept on the contact meanwhile is newer (ISO times of one format compare as strings). Where it
// fails the write is tried once more without it, the newer reply kept.
const LAST_REPLY_FORWARD = '(attribute_not_exists(lastReplyAt) OR lastReplyAt <= :lastReplyAt)';

export class DynamoDbConversationStore implements ConversationStore {
  readonly #client: DynamoDBClient;
  readonly #table: string;
  readonly #sweepAt: (conversation: Conversation) => string | null;
  readonly #shards: ShardCount;

  constructor(options: DynamoDbConversationStoreOptions) {
    this.#client = options.client;
    this.#table = options.tableName;
    this.#sweepAt = options.sweepAt;
    this.#shards = options.shards;
  }

  async getContact(key: string): Promise<Contact | null> {
    const item = await this.#get(`CONTACT#${key}`, 'CONTACT');
    return item ? parseContact(item) : null;
  }

  async claimOpenConversation(
    key: string,
    candidateId: string,
    touch: ContactTouch,
    replacing?: string,
    claimToken?: string | null,
  ): Promise<OpenConversationClaim> {
    const now = touch.now.toISOString();
    const names: Record<string, string> = { '#open': 'openConversationId', '#key': 'key' };
    // A conversation claimed again (a reopen) is already in the contact's list.
    const listed = replacing === candidateId;
    const values: Record<string, unknown> = {
      ':candidate': candidateId,
      ':key': key,
      ':now': now,
      ':false': false,
      ':channel': new Set([touch.channel]),
      ...(listed ? {} : { ':none': [], ':ids': [candidateId] }),
      ':token': randomUUID(),
    };
    let update =
      'SET #open = :candidate, claimToken = :token, #key = :key, updatedAt = :now, createdAt = if_not_exists(createdAt, :now), ' +
      'optedOut = if_not_exists(optedOut, :false)' +
      (listed ? '' : ', conversationIds = list_append(if_not_exists(conversationIds, :none), :ids)') +
      ' ADD channels :channel';
    if (touch.name) {
      names['#name'] = 'name';
      values[':name'] = touch.name;
      update = update.replace(' ADD', ', #name = :name ADD');
    }
    if (touch.locale) {
      names['#locale'] = 'locale';
      values[':locale'] = touch.locale;
      update = update.replace(' ADD', ', #locale = :locale ADD');
    }
    if (touch.lastAck) {
      Object.assign(values, lastAckValues(touch.lastAck));
      update = update.replace(' ADD', `${LAST_ACK_UPDATE} ADD`);
    }
    if (touch.lastReplyAt) {
      values[':lastReplyAt'] = touch.lastReplyAt;
      update = update.replace(' ADD', `${LAST_REPLY_UPDATE} ADD`);
    }
    let condition = 'attribute_not_exists(#open) OR attribute_type(#open, :nullType)';
    values[':nullType'] = 'NULL';
    if (replacing) {
      // A stale pointer is taken over only if nobody claimed it since it was read.
      const unclaimed =
        claimToken === undefined
          ? ''
          : claimToken === null
            ? ' AND attribute_not_exists(claimToken)'
            : ' AND claimToken = :seen';
      condition += ` OR (#open = :replacing${unclaimed})`;
      values[':replacing'] = replacing;
      if (claimToken) values[':seen'] = claimToken;
    }
    if (touch.lastReplyAt) condition = `(${condition}) AND ${LAST_REPLY_FORWARD}`;
    try {
      const { Attributes } = await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: marshall({ pk: `CONTACT#${key}`, sk: 'CONTACT' }),
          UpdateExpression: update,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: marshall(values, MARSHALL),
          ReturnValues: 'ALL_NEW',
          // Another conversation is open: DynamoDB says which in the same round trip.
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      if (!Attributes) throw new Error(`claim on contact ${key} returned no item`);
      const contact = parseContact(strip(Attributes));
      return { conversationId: candidateId, contact: await this.#trimConversationIds(key, contact) };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // Perhaps only our last reply was older than the contact's: the claim without it.
      if (touch.lastReplyAt)
        return this.claimOpenConversation(
          key,
          candidateId,
          { ...touch, lastReplyAt: null },
          replacing,
          claimToken,
        );
      // An emulator that does not return the item (dynalite) costs one read instead.
      const contact = error.Item ? parseContact(strip(error.Item)) : await this.getContact(key);
      if (contact?.openConversationId) return { conversationId: contact.openConversationId, contact };
      // The open conversation closed between our condition and our read: claim again.
      return this.claimOpenConversation(key, candidateId, touch, replacing, claimToken);
    }
  }

  async renewClaim(key: string, conversationId: string, claimToken: string): Promise<boolean> {
    return applied(
      this.#client.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: marshall({ pk: `CONTACT#${key}`, sk: 'CONTACT' }),
          UpdateExpression: 'SET claimToken = :fresh',
          ConditionExpression: 'openConversationId = :id AND claimToken = :token',
          ExpressionAttributeValues: marshall({
            ':fresh': randomUUID(),
            ':id': conversationId,
            ':token': claimToken,
          }),
        }),
      ),
    );
  }

  /**
   * Drops the oldest conversation ids once a contact holds 50 more than it keeps: one extra
   * write per 50 new conversations, only for the contacts that have that many. The kept ids are
   * written out (REMOVE by list index is read differently by emulators), under a condition on
   * the list's size, so that an append in between makes the trim skip rather than lose it.
   */
  async #trimConversationIds(key: string, contact: Contact): Promise<Contact> {
    const ids = contact.conversationIds;
    if (ids.length <= MAX_CONTACT_CONVERSATIONS + 50) return contact;
    const kept = ids.slice(-MAX_CONTACT_CONVERSATIONS);
    await applied(
      this.#client.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: marshall({ pk: `CONTACT#${key}`, sk: 'CONTACT' }),
          UpdateExpression: 'SET conversationIds = :kept',
          ConditionExpression: 'size(conversationIds) = :size',
          ExpressionAttributeValues: marshall({ ':kept': kept, ':size': ids.length }),
        }),
      ),
    );
    return { ...contact, conversationIds: kept };
  }

  async resolveAlias(aliasKey: string): Promise<ContactAlias | null> {
    const item = await this.#get(`ALIAS#${aliasKey}`, 'ALIAS');
    return typeof item?.contactKey === 'string' && typeof item.address === 'string'
      ? { contactKey: item.contactKey, address: item.address }
      : null;
  }

  async linkAlias(aliasKey: string, alias: ContactAlias, now: Date): Promise<void> {
    await this.writeAlias(aliasKey, alias, now);
    // Last: once the contact says so, no message carrying both keys writes the link again.
    await this.markAliasLinked(alias.contactKey, aliasKey);
  }

  async writeAlias(aliasKey: string, alias: ContactAlias, now: Date): Promise<string | null> {
    const at = now.toISOString();
    const key = marshall({ pk: `ALIAS#${aliasKey}`, sk: 'ALIAS' });
    // Unconditional in effect: Meta gives a BSUID to one number (a new number gets a new BSUID),
    // so the latest webhook that carries both is the truth. Written only when it leads elsewhere
    // (or nowhere) now, keeping where it led (`previousContactKey`); a repeat changes nothing.
    try {
      const { Attributes } = await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: key,
          UpdateExpression:
            'SET #type = :type, previousContactKey = if_not_exists(contactKey, :none), contactKey = :contact, address = :address, updatedAt = :at, createdAt = if_not_exists(createdAt, :at)',
          ConditionExpression:
            'attribute_not_exists(contactKey) OR contactKey <> :contact OR address <> :address',
          ExpressionAttributeNames: { '#type': 'type' },
          ExpressionAttributeValues: marshall({
            ':type': 'alias',
            ':contact': alias.contactKey,
            ':address': alias.address,
            ':at': at,
            ':none': '',
          }),
          ReturnValues: 'ALL_OLD',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      const led = Attributes ? unmarshall(Attributes).contactKey : undefined;
      return typeof led === 'string' && led !== alias.contactKey ? led : null;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // It leads here already: what it replaced then (dynalite returns no item: one read).
      const item = error.Item ? unmarshall(error.Item) : await this.#get(`ALIAS#${aliasKey}`, 'ALIAS');
      const previous = item?.previousContactKey;
      return typeof previous === 'string' && previous !== '' ? previous : null;
    }
  }

  async markAliasLinked(contactKey: string, aliasKey: string): Promise<void> {
    await applied(
      this.#client.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: marshall({ pk: `CONTACT#${contactKey}`, sk: 'CONTACT' }),
          UpdateExpression: 'ADD aliasKeys :alias',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: marshall({ ':alias': new Set([aliasKey]) }),
        }),
      ),
    );
  }

  async carryContact(key: string, carried: ContactCarry, now: Date): Promise<Contact> {
    const { Attributes } = await this.#client.send(
      new UpdateItemCommand(carryContactUpdate(this.#table, key, carried, now)),
    );
    if (!Attributes) throw new Error(`carry to contact ${key} returned no item`);
    return parseContact(strip(Attributes));
  }

  async keepLastAck(key: string, lastAck: LastAck): Promise<void> {
    await applied(this.#client.send(new UpdateItemCommand(keepLastAckUpdate(this.#table, key, lastAck))));
  }

  async touchContact(key: string, touch: ContactTouch): Promise<void> {
    const names: Record<string, string> = {
      ...(touch.name ? { '#name': 'name' } : {}),
      ...(touch.locale ? { '#locale': 'locale' } : {}),
    };
    const set = [
      'updatedAt = :now',
      ...(touch.name ? ['#name = :name'] : []),
      ...(touch.locale ? ['#locale = :locale'] : []),
    ];
    await applied(
      this.#client.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: marshall({ pk: `CONTACT#${key}`, sk: 'CONTACT' }),
          UpdateExpression: `SET ${set.join(', ')} ADD channels :channel`,
          ConditionExpression: 'attribute_exists(pk)',
          ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
          ExpressionAttributeValues: marshall(
            {
              ':now': touch.now.toISOString(),
              ':channel': new Set([touch.channel]),
              ':name': touch.name,
              ':locale': touch.locale,
            },
            MARSHALL,
          ),
        }),
      ),
    );
  }

  async releaseOpenConversation(
    key: string,
    conversationId: string,
    now: Date,
    kept?: ContactKeeps | null,
    claimToken?: string | null,
  ): Promise<void> {
    const lastAck = kept?.lastAck;
    const lastReplyAt = kept?.lastReplyAt;
    // Already released, pointing at a newer conversation, or claimed again since: nothing to do.
    // (Or only our last reply was older than the contact's: released without it, below.)
    const claim =
      claimToken === undefined
        ? ''
        : claimToken === null
          ? ' AND attribute_not_exists(claimToken)'
          : ' AND claimToken = :token';
    const released = await applied(
      this.#client.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: marshall({ pk: `CONTACT#${key}`, sk: 'CONTACT' }),
          UpdateExpression: `SET openConversationId = :null, updatedAt = :now${lastAck ? LAST_ACK_UPDATE : ''}${lastReplyAt ? LAST_REPLY_UPDATE : ''}`,
          ConditionExpression: `openConversationId = :id${claim}${lastReplyAt ? ` AND ${LAST_REPLY_FORWARD}` : ''}`,
          ExpressionAttributeValues: marshall({
            ':null': null,
            ':now': now.toISOString(),
            ':id': conversationId,
            ...(claimToken ? { ':token': claimToken } : {}),
            ...(lastAck ? lastAckValues(lastAck) : {}),
            ...(lastReplyAt ? { ':lastReplyAt': lastReplyAt } : {}),
          }),
        }),
      ),
    );
    if (!released && lastReplyAt)
      await this.releaseOpenConversation(
        key,
        conversationId,
        now,
        { ...kept, lastReplyAt: null },
        claimToken,
      );
  }

  async putMessage(message: Message): Promise<{ created: boolean; message: Message }> {
    try {
      await this.#client.send(
        new PutItemCommand({
          TableName: this.#table,
          Item: marshall({ ...this.#messageKeys(message), type: 'message', ...message }, MARSHALL),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return { created: true, message };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const stored = await this.getMessage(message.id);
      if (!stored) throw error;
      return { created: false, message: stored };
    }
  }

  async getMessage(id: string): Promise<Message | null> {
    const item = await this.#get(`MSG#${id}`, 'MSG');
    return item ? MessageSchema.parse(item) : null;
  }

  async repointMessage(messageId: string, from: string, to: string): Promise<Message> {
    const stored = await this.getMessage(messageId);
    if (!stored) throw new ConcurrentUpdateError(`message ${messageId}`);
    if (stored.conversationId !== from) return stored;
    try {
      // Only the fields that move, not the message put again: a field a newer release stored on
      // it (a rolling deploy, a rollback) stays, and so do the store's own (deliveryRank).
      await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: marshall({ pk: `MSG#${messageId}`, sk: 'MSG' }),
          UpdateExpression: 'SET conversationId = :to, gsi1pk = :index',
          ConditionExpression: 'conversationId = :from',
          ExpressionAttributeValues: marshall({ ':from': from, ':to': to, ':index': `CONV#${to}` }),
        }),
      );
      return { ...stored, conversationId: to };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // Another delivery of the same message moved it first: it is where that one put it.
      const now = await this.getMessage(messageId);
      if (!now) throw new ConcurrentUpdateError(`message ${messageId}`);
      return now;
    }
  }

  async getConversation(id: string): Promise<Conversation | null> {
    const item = await this.#get(`CONV#${id}`, 'CONV');
    return item ? ConversationSchema.parse(item) : null;
  }

  async saveConversation(conversation: Conversation, expectedVersion: number | null): Promise<Conversation> {
    // An outbox past MAX_OUTBOX_EVENTS (the event bus down for long) moves its oldest events to
    // items of their own first, so the conversation's item stays far from 400 KB. If the write
    // below then loses its race, the moved events are copies of events still in an outbox:
    // delivered twice at worst, and consumers drop duplicates by id.
    const { conversation: bounded, spilled } = spillOutbox(conversation);
    await this.#forEachChunk(spilled, (event) =>
      this.#client.send(
        new PutItemCommand({
          TableName: this.#table,
          Item: marshallStored({ ...spilledEventKey(bounded.id, event), type: 'spilledEvent', event }),
        }),
      ),
    );
    const saved: Conversation = { ...bounded, version: (expectedVersion ?? 0) + 1 };
    const sweepAt = this.#sweepAt(saved);
    const shard = (base: string) => shardKey(base, saved.id, this.#shards.forWriting);
    const item = {
      pk: `CONV#${saved.id}`,
      sk: 'CONV',
      type: 'conversation',
      gsi1pk: shard(`CONVS#${saved.status}`),
      gsi1sk: `${saved.lastMessageAt}#${saved.id}`,
      ...(sweepAt ? { gsi2pk: shard('SWEEP'), gsi2sk: `${sweepAt}#${saved.id}` } : {}),
      ...awaitingIndexKeys(saved, shard),
      gsi4pk: shard(`CONVS#${saved.status}#${saved.channel}`),
      gsi4sk: `${saved.lastMessageAt}#${saved.id}`,
      ...(saved.assignee
        ? {
            gsi5pk: `ASSIGNEE#${saved.status}#${saved.assignee}`,
            gsi5sk: `${saved.lastMessageAt}#${saved.id}`,
          }
        : {}),
      ...saved,
    };
    try {
      await this.#client.send(
        new PutItemCommand({
          TableName: this.#table,
          Item: marshallStored(item),
          ...(expectedVersion === null
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : {
                ConditionExpression: '#version = :expected',
                ExpressionAttributeNames: { '#version': 'version' },
                ExpressionAttributeValues: marshall({ ':expected': expectedVersion }),
              }),
        }),
      );
      return saved;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException)
        throw new ConcurrentUpdateError(`conversation ${saved.id}`);
      throw error;
    }
  }

  async spilledEvents(conversationId: string, limit: number): Promise<DomainEvent[]> {
    const result = await this.#client.send(
      new QueryCommand({
        TableName: this.#table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: marshall({ ':pk': `OUTBOX#${conversationId}` }),
        ConsistentRead: true,
        Limit: limit,
      }),
    );
    return (result.Items ?? []).map((item) => DomainEventSchema.parse(unmarshall(item).event));
  }

  async dropSpilledEvents(conversationId: string, events: readonly DomainEvent[]): Promise<void> {
    await this.#forEachChunk(events, (event) =>
      this.#client.send(
        new DeleteItemCommand({
          TableName: this.#table,
          Key: marshall(spilledEventKey(conversationId, event)),
        }),
      ),
    );
  }

  /** Single-item writes, SPILL_CONCURRENCY at a time (the functions have no batch-write grant). */
  async #forEachChunk<T>(items: readonly T[], write: (item: T) => Promise<unknown>): Promise<void> {
    for (let start = 0; start < items.length; start += SPILL_CONCURRENCY) {
      await Promise.all(items.slice(start, start + SPILL_CONCURRENCY).map(write));
    }
  }

  async listConversations(query: ConversationQuery): Promise<ConversationPage> {
    // One index per listing, so that every listing is a Query (one per shard) whose cost is
    // about the page size whatever the table holds. An assignee's key is not sharded: it takes
    // one agent's conversations, not everyone's.
    const everyShard = await this.#shards.forReading();
    const [index, base, newestFirst, before, shards] =
      query.awaiting || query.overdue
        ? ([
            'gsi3',
            'AWAITING',
            false,
            query.overdue ? (query.now ?? new Date()).toISOString() : undefined,
            everyShard,
          ] as const)
        : query.noReplyNeeded
          ? (['gsi3', 'NOREPLY', true, undefined, everyShard] as const)
          : query.channel
            ? (['gsi4', `CONVS#${query.status}#${query.channel}`, true, undefined, everyShard] as const)
            : query.assignee
              ? (['gsi5', `ASSIGNEE#${query.status}#${query.assignee}`, true, undefined, 1] as const)
              : (['gsi1', `CONVS#${query.status}`, true, undefined, everyShard] as const);
    const page = await queryShards({
      client: this.#client,
      table: this.#table,
      index,
      base,
      shards,
      newestFirst,
      until: before ? { value: before, inclusive: false } : undefined,
      limit: query.limit,
      cursor: query.cursor,
      tableKey: conversationKey,
    });
    const read = readConversations(page);
    if (!(query.awaiting || query.overdue)) return read;
    // An item written before stop 25 keeps its AWAITING entry for an episode that needs no reply
    // until the sweeper's backfill (dynamodb-awaiting-backfill.ts) or its next write moves it to
    // NOREPLY: meanwhile it is left out here, not shown among the customers waiting.
    return { ...read, items: read.items.filter((conversation) => awaitingOf(conversation) === 'reply') };
  }

  async listMessages(conversationId: string, page: MessagePage): Promise<Message[]> {
    // Newest first, so that the first page is the latest messages; handed back oldest first.
    const before = page.before ? `${page.before.createdAt}#${page.before.id}` : undefined;
    const messages: Message[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const result = await this.#client.send(
        new QueryCommand({
          TableName: this.#table,
          IndexName: 'gsi1',
          KeyConditionExpression: before ? 'gsi1pk = :pk AND gsi1sk < :before' : 'gsi1pk = :pk',
          ExpressionAttributeValues: marshall({
            ':pk': `CONV#${conversationId}`,
            ...(before ? { ':before': before } : {}),
          }),
          ScanIndexForward: false,
          Limit: page.limit - messages.length,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of result.Items ?? []) messages.push(MessageSchema.parse(strip(item)));
      start = result.LastEvaluatedKey;
    } while (start && messages.length < page.limit);
    return messages.reverse();
  }

  async lastInboundOn(conversationId: string, channel: Message['channel']): Promise<Message | null> {
    // Newest first, a page at a time, until the first inbound message on the channel: usually
    // among the latest few. The filter only saves returning the others (they are still read),
    // so the look back is capped.
    let start: Record<string, AttributeValue> | undefined;
    let read = 0;
    do {
      const limit = Math.min(LAST_INBOUND_PAGE, MAX_LAST_INBOUND_LOOKBACK - read);
      const result = await this.#client.send(
        new QueryCommand({
          TableName: this.#table,
          IndexName: 'gsi1',
          KeyConditionExpression: 'gsi1pk = :pk',
          FilterExpression: '#direction = :inbound AND #channel = :channel',
          ExpressionAttributeNames: { '#direction': 'direction', '#channel': 'channel' },
          ExpressionAttributeValues: marshall({
            ':pk': `CONV#${conversationId}`,
            ':inbound': 'inbound',
            ':channel': channel,
          }),
          ScanIndexForward: false,
          Limit: limit,
          ExclusiveStartKey: start,
        }),
      );
      const [item] = result.Items ?? [];
      if (item) return MessageSchema.parse(strip(item));
      read += result.ScannedCount ?? limit;
      start = result.LastEvaluatedKey;
    } while (start && read < MAX_LAST_INBOUND_LOOKBACK);
    return null;
  }

  async findByProviderId(provider: string, providerMessageId: string): Promise<Message | null> {
    const inbound = await this.getMessage(stableId('msg', `${provider}:${providerMessageId}`));
    if (inbound) return inbound;
    const alias = await this.#get(`PMID#${provider}:${providerMessageId}`, 'PMID');
    return typeof alias?.messageId === 'string' ? this.getMessage(alias.messageId) : null;
  }

  async putProviderAlias(
    provider: string,
    providerMessageId: string,
    messageId: string,
  ): Promise<DeliveryUpdate | null> {
    // An update, not a put: a delivery update held here before the alias existed stays until
    // it is applied (a worker that dies before applying it leaves it for the next one).
    const result = await this.#client.send(
      new UpdateItemCommand({
        TableName: this.#table,
        Key: marshall({ pk: `PMID#${provider}:${providerMessageId}`, sk: 'PMID' }),
        UpdateExpression: 'SET #type = :alias, messageId = :messageId REMOVE expiresAt',
        ExpressionAttributeNames: { '#type': 'type' },
        ExpressionAttributeValues: marshall({ ':alias': 'alias', ':messageId': messageId }),
        ReturnValues: 'ALL_NEW',
      }),
    );
    const early = result.Attributes ? strip(result.Attributes).early : undefined;
    const parsed = DeliveryUpdateSchema.safeParse(early);
    return parsed.success ? parsed.data : null;
  }

  async claimSameMessage(
    key: string,
    first: { provider: string; providerMessageId: string },
    ttlSeconds: number,
    now: Date,
  ): Promise<{ provider: string; providerMessageId: string }> {
    // One write whichever delivery comes first: the first one's names stay, the others read them.
    // Each delivery moves the expiry on (no condition: an expired item TTL has not removed yet
    // still names the first delivery rightly).
    return (
      (await this.#keepFirstProviderId(
        `SAMEMSG#${key}`,
        'SAMEMSG',
        'same-message',
        first,
        ttlSeconds,
        now,
      )) ?? first
    );
  }

  async sameMessage(key: string): Promise<{ provider: string; providerMessageId: string } | null> {
    return providerIdOf(await this.#get(`SAMEMSG#${key}`, 'SAMEMSG'));
  }

  /**
   * Names a provider's id under `pk` unless one is there already (the first stays), moving the
   * item's expiry on; returns the id the item holds after the write.
   */
  async #keepFirstProviderId(
    pk: string,
    sk: string,
    type: string,
    first: { provider: string; providerMessageId: string },
    ttlSeconds: number,
    now: Date,
  ): Promise<{ provider: string; providerMessageId: string } | null> {
    const result = await this.#client.send(
      new UpdateItemCommand({
        TableName: this.#table,
        Key: marshall({ pk, sk }),
        UpdateExpression:
          'SET #type = :type, provider = if_not_exists(provider, :provider), providerMessageId = if_not_exists(providerMessageId, :id), expiresAt = :expiresAt',
        ExpressionAttributeNames: { '#type': 'type' },
        ExpressionAttributeValues: marshall({
          ':type': type,
          ':provider': first.provider,
          ':id': first.providerMessageId,
          ':expiresAt': Math.ceil(now.getTime() / 1000) + ttlSeconds,
        }),
        ReturnValues: 'ALL_NEW',
      }),
    );
    return providerIdOf(result.Attributes ? strip(result.Attributes) : null);
  }

  async holdDelivery(update: DeliveryUpdate, ttlSeconds: number, now: Date): Promise<boolean> {
    const key = { pk: `PMID#${update.provider}:${update.providerMessageId}`, sk: 'PMID' };
    try {
      await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: marshall(key),
          UpdateExpression: 'SET #type = :held, early = :update, earlyRank = :rank, expiresAt = :expiresAt',
          // The alias came meanwhile: the caller looks again. A later state already held stays.
          ConditionExpression:
            'attribute_not_exists(messageId) AND (attribute_not_exists(earlyRank) OR earlyRank < :rank)',
          ExpressionAttributeNames: { '#type': 'type' },
          ExpressionAttributeValues: marshall(
            {
              ':held': 'held-delivery',
              ':update': update,
              ':rank': DELIVERY_RANK[update.status],
              ':expiresAt': Math.ceil(now.getTime() / 1000) + ttlSeconds,
            },
            { removeUndefinedValues: true },
          ),
        }),
      );
      return true;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const item = await this.#get(key.pk, key.sk);
      return typeof item?.messageId !== 'string';
    }
  }

  async noteReportedSend(
    report: { messageId: string; provider: string; providerMessageId: string },
    ttlSeconds: number,
    now: Date,
  ): Promise<void> {
    // The first report stays: a message sent twice (a resend after the wait) reached the customer
    // under the first id first.
    await this.#keepFirstProviderId(
      `SENT#${report.messageId}`,
      'SENT',
      'reported-send',
      report,
      ttlSeconds,
      now,
    );
  }

  async reportedSend(messageId: string): Promise<{ provider: string; providerMessageId: string } | null> {
    return providerIdOf(await this.#get(`SENT#${messageId}`, 'SENT'));
  }

  async updateDelivery(messageId: string, update: DeliveryUpdate): Promise<Message | null> {
    const rank = DELIVERY_RANK[update.status];
    const delivery = {
      status: update.status,
      updatedAt: update.at,
      ...(update.errorCode ? { errorCode: update.errorCode } : {}),
    };
    try {
      const result = await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: marshall({ pk: `MSG#${messageId}`, sk: 'MSG' }),
          UpdateExpression: 'SET delivery = :delivery, deliveryRank = :rank',
          ConditionExpression:
            'attribute_exists(pk) AND (attribute_not_exists(deliveryRank) OR deliveryRank < :rank)',
          ExpressionAttributeValues: marshall({ ':delivery': delivery, ':rank': rank }),
          ReturnValues: 'ALL_NEW',
        }),
      );
      return result.Attributes ? MessageSchema.parse(strip(result.Attributes)) : null;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return null;
      throw error;
    }
  }

  async keepLastReply(key: string, at: Date): Promise<void> {
    await applied(
      this.#client.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: marshall({ pk: `CONTACT#${key}`, sk: 'CONTACT' }),
          UpdateExpression: 'SET lastReplyAt = :at',
          // Only forward (ISO times of one format compare as strings); a retry is applied again.
          ConditionExpression:
            'attribute_exists(pk) AND (attribute_not_exists(lastReplyAt) OR lastReplyAt <= :at)',
          ExpressionAttributeValues: marshall({ ':at': at.toISOString() }),
        }),
      ),
    );
  }

  async setConsent(key: string, optedOut: boolean, at: Date): Promise<boolean> {
    return applied(
      this.#client.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: marshall({ pk: `CONTACT#${key}`, sk: 'CONTACT' }),
          UpdateExpression:
            'SET optedOut = :optedOut, consentAt = :at, updatedAt = :at, #key = :key, ' +
            'createdAt = if_not_exists(createdAt, :at), openConversationId = if_not_exists(openConversationId, :null)',
          // The customer's latest word wins, whatever order the webhooks are recorded in (ISO
          // times of one format compare as strings). The same time again is a retry: applied.
          ConditionExpression: 'attribute_not_exists(consentAt) OR consentAt <= :at',
          ExpressionAttributeNames: { '#key': 'key' },
          ExpressionAttributeValues: marshall({
            ':optedOut': optedOut,
            ':at': at.toISOString(),
            ':key': key,
            ':null': null,
          }),
        }),
      ),
    );
  }

  async bindOnce(key: string, content: string, ttlSeconds: number, now: Date): Promise<boolean> {
    return applied(
      this.#client.send(
        new PutItemCommand({
          TableName: this.#table,
          Item: marshall({
            pk: `REPLAY#${key}`,
            sk: 'REPLAY',
            type: 'replay',
            content,
            expiresAt: Math.ceil(now.getTime() / 1000) + ttlSeconds,
          }),
          // An expired record may linger until DynamoDB's TTL removes it: it no longer counts.
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now OR content = :content',
          ExpressionAttributeValues: marshall({
            ':now': Math.floor(now.getTime() / 1000),
            ':content': content,
          }),
        }),
      ),
    );
  }

  async completeText(messageId: string, text: string): Promise<void> {
    // The late text is written first, then applied if the message exists: whichever of the
    // two writers comes second sees the other's write (see takeLateText).
    await this.#client.send(
      new PutItemCommand({
        TableName: this.#table,
        Item: marshall({ pk: `LATETEXT#${messageId}`, sk: 'LATETEXT', type: 'late-text', text }),
      }),
    );
    await this.#applyText(messageId, text);
  }

  async takeLateText(messageId: string): Promise<Message | null> {
    const late = await this.#get(`LATETEXT#${messageId}`, 'LATETEXT');
    if (typeof late?.text !== 'string') return null;
    return this.#applyText(messageId, late.text);
  }

  async #applyText(messageId: string, text: string): Promise<Message | null> {
    try {
      const result = await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: marshall({ pk: `MSG#${messageId}`, sk: 'MSG' }),
          UpdateExpression: 'SET #text = :text',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#text': 'text' },
          ExpressionAttributeValues: marshall({ ':text': text }),
          ReturnValues: 'ALL_NEW',
        }),
      );
      return result.Attributes ? MessageSchema.parse(strip(result.Attributes)) : null;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return null;
      throw error;
    }
  }

  async dueForSweep(now: Date, limit: number, cursor?: string): Promise<ConversationPage> {
    const page = await queryShards({
      client: this.#client,
      table: this.#table,
      index: 'gsi2',
      base: 'SWEEP',
      shards: await this.#shards.forReading(),
      newestFirst: false,
      // '~' sorts after every id character, so everything due at or before now is included.
      until: { value: `${now.toISOString()}~`, inclusive: true },
      limit,
      cursor,
      tableKey: conversationKey,
    });
    // One item at a time: one that cannot be read sorts first in the index and is never
    // rewritten, so failing the page on it would stop the sweep for every customer, every run.
    return readConversations(page);
  }

  #messageKeys(message: Message): Record<string, string> {
    return {
      pk: `MSG#${message.id}`,
      sk: 'MSG',
      gsi1pk: `CONV#${message.conversationId}`,
      gsi1sk: `${message.createdAt}#${message.id}`,
    };
  }

  async #get(pk: string, sk: string): Promise<Record<string, unknown> | null> {
    const result = await this.#client.send(
      new GetItemCommand({ TableName: this.#table, Key: marshall({ pk, sk }), ConsistentRead: true }),
    );
    return result.Item ? strip(result.Item) : null;
  }
}

/**
 * An event moved out of a conversation's outbox: pk `OUTBOX#<conversation id>`, sorted by the
 * time it happened (the outbox's order), so the publisher reads them oldest first.
 */
function spilledEventKey(conversationId: string, event: DomainEvent): { pk: string; sk: string } {
  return { pk: `OUTBOX#${conversationId}`, sk: `${event.occurredAt}#${event.id}` };
}

/**
 * A contact is only ever updated field by field, never put whole, so what this release does not
 * know can be left out of what it reads and stays stored: a channel or locale a newer release
 * recorded (a rolling deploy, a rollback) is not a reason to refuse every message of the customer.
 */
function parseContact(item: Record<string, unknown>): Contact {
  const stored = item.channels instanceof Set ? [...item.channels].sort() : (item.channels ?? []);
  const channels = Array.isArray(stored)
    ? stored.filter((channel) => ChannelSchema.safeParse(channel).success)
    : stored;
  const locale =
    item.locale === undefined || LocaleSchema.safeParse(item.locale).success ? item.locale : undefined;
  const aliasKeys = item.aliasKeys instanceof Set ? [...item.aliasKeys].sort() : item.aliasKeys;
  return ContactSchema.parse({
    ...item,
    channels,
    ...(aliasKeys === undefined ? {} : { aliasKeys }),
    locale,
    openConversationId: item.openConversationId ?? null,
  });
}

/**
 * A page of conversation items, one at a time: one this release cannot read is named by its
 * key and the fields that failed (never what it held) and skipped, and the cursor is the raw
 * page's, so it continues after it. Failing the page on it would fail the sweep for every
 * customer, or an agents' listing, every time until someone repaired the item.
 */
/**
 * gsi3: a customer waiting for a person under `AWAITING`, by promise; an open episode only
 * messages nobody is to answer began (an out-of-office reply, HELP) under `NOREPLY`, newest
 * activity first. Never both, so it costs no more index writes than the waiting list alone.
 * (Also what the backfill of items stored before stop 25 rewrites them to: dynamodb-awaiting-backfill.ts.)
 */
export function awaitingIndexKeys(
  saved: Conversation,
  shard: (base: string) => string,
): { gsi3pk: string; gsi3sk: string } | Record<string, never> {
  const awaiting = awaitingOf(saved);
  if (awaiting === 'reply' && saved.replyBy)
    return { gsi3pk: shard('AWAITING'), gsi3sk: `${new Date(saved.replyBy).toISOString()}#${saved.id}` };
  if (awaiting === 'no-reply-needed')
    return { gsi3pk: shard('NOREPLY'), gsi3sk: `${saved.lastMessageAt}#${saved.id}` };
  return {};
}

/** Conversation items as read from a table or index page; those this release cannot parse, by key. */
export function readConversations(page: {
  items: Array<Record<string, AttributeValue>>;
  nextCursor: string | null;
}): ConversationPage {
  const items: Conversation[] = [];
  const unreadable: ConversationPage['unreadable'] = [];
  for (const item of page.items) {
    const parsed = ConversationSchema.safeParse(strip(item));
    if (parsed.success) items.push(parsed.data);
    else {
      unreadable.push({
        key: item.pk?.S ?? '(no key)',
        fields: [...new Set(parsed.error.issues.map((issue) => issue.path.join('.') || '(root)'))],
      });
    }
  }
  return { items, nextCursor: page.nextCursor, unreadable };
}

/** The provider's id an item names (`provider`, `providerMessageId`), or null. */
function providerIdOf(item: Record<string, unknown> | null | undefined): {
  provider: string;
  providerMessageId: string;
} | null {
  return typeof item?.provider === 'string' && typeof item.providerMessageId === 'string'
    ? { provider: item.provider, providerMessageId: item.providerMessageId }
    : null;
}
