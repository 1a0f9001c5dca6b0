// Conversation items: read, written whole under a version condition with their index keys, outbox spills.

import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import {
  awaitingOf,
  type Conversation,
  ConversationSchema,
  spillOutbox,
  withListVersion,
} from '#lib/domain/conversation.ts';
import { type DomainEvent, DomainEventSchema } from '#lib/domain/events.ts';
import { ConcurrentUpdateError } from '#lib/ports/errors.ts';
import { marshallStored } from './dynamodb-marshall.ts';
import { type ShardCount, shardKey } from './dynamodb-shards.ts';
import { type DynamoDbConversationStoreOptions, StoreItems } from './dynamodb-store-items.ts';
import { sweepIndexKey } from './dynamodb-sweep-keys.ts';

const SPILL_CONCURRENCY = 25;

/** One conversation at a time: its item, the index keys each write gives it, its spilled events. */
export class DynamoDbConversations extends StoreItems {
  readonly #sweepAt: (conversation: Conversation) => string | null;
  readonly #shards: ShardCount;

  constructor(options: DynamoDbConversationStoreOptions) {
    super(options);
    this.#sweepAt = options.sweepAt;
    this.#shards = options.shards;
  }

  async getConversation(id: string): Promise<Conversation | null> {
    const item = await this.item(`CONV#${id}`, 'CONV');
    return item ? ConversationSchema.parse(item) : null;
  }

  async saveConversation(conversation: Conversation, expectedVersion: number | null): Promise<Conversation> {
    // An outbox past MAX_OUTBOX_EVENTS (the event bus down for long) moves its oldest events to
    // items of their own first, so the conversation's item stays far from 400 KB. If the write
    // below then loses its race, the moved events are copies of events still in an outbox:
    // delivered twice at worst, and consumers drop duplicates by id.
    const { conversation: bounded, spilled } = spillOutbox(conversation);
    await this.#forEachChunk(spilled, (event) =>
      this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: marshallStored({ ...spilledEventKey(bounded.id, event), type: 'spilledEvent', event }),
        }),
      ),
    );
    // Its list of applied replies names this write's version: a write by an older release shows.
    const saved: Conversation = withListVersion({ ...bounded, version: (expectedVersion ?? 0) + 1 });
    const sweep = sweepIndexKey(saved, this.#sweepAt(saved), this.#shards.forWriting);
    const shard = (base: string) => shardKey(base, saved.id, this.#shards.forWriting);
    const item = {
      pk: `CONV#${saved.id}`,
      sk: 'CONV',
      type: 'conversation',
      gsi1pk: shard(`CONVS#${saved.status}`),
      gsi1sk: `${saved.lastMessageAt}#${saved.id}`,
      ...(sweep ? { gsi2pk: sweep.pk, gsi2sk: sweep.sk } : {}),
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
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
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
    const result = await this.client.send(
      new QueryCommand({
        TableName: this.table,
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
      this.client.send(
        new DeleteItemCommand({
          TableName: this.table,
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
}

/**
 * An event moved out of a conversation's outbox: pk `OUTBOX#<conversation id>`, sorted by its
 * `sequence` (the outbox's order), so the publisher reads them oldest first. Not by the time it
 * happened: the events of one write share it (a conversation's opening and its first message
 * came out swapped, by id), and a late report's event carries an earlier time than the one
 * before it. An event made before stop 31 has no number and keeps the old key, `<occurredAt>#<id>`,
 * which sorts before every `seq#` key, as those events came before every numbered one.
 */
function spilledEventKey(conversationId: string, event: DomainEvent): { pk: string; sk: string } {
  const sk =
    event.sequence === undefined
      ? `${event.occurredAt}#${event.id}`
      : `seq#${String(event.sequence).padStart(12, '0')}#${event.id}`;
  return { pk: `OUTBOX#${conversationId}`, sk };
}

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
