// Conversation listings: agents' pages by status, channel, assignee or waiting, and the sweeper's due ones.

import { type AttributeValue, QueryCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import {
  awaitingOf,
  CHANNEL_WAIT_REASON,
  type Conversation,
  ConversationSchema,
} from '#lib/domain/conversation.ts';
import type { ConversationPage, ConversationQuery } from '#lib/ports/conversation-store.ts';
import { queryShards, type ShardCount, tableKeyFromSortKey } from './dynamodb-shards.ts';
import { type DynamoDbConversationStoreOptions, StoreItems, strip } from './dynamodb-store-items.ts';
import { waitingBase } from './dynamodb-sweep-keys.ts';

// Every conversation index sorts by `<time>#<conversation id>`.
const conversationKey = tableKeyFromSortKey('CONV', 'CONV');

/** Every listing a Query per shard of one index, whatever the table holds. */
/** What the channel-waiting count reads of a waiting conversation (its projection). */
type WaitingEntry = {
  id: string;
  ack?: { after?: { conversationId?: string } };
  notice?: { state?: string; reason?: string };
};

export class DynamoDbConversationListings extends StoreItems {
  readonly #shards: ShardCount;

  constructor(options: DynamoDbConversationStoreOptions) {
    super(options);
    this.#shards = options.shards;
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
      client: this.client,
      table: this.table,
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

  async dueForSweep(now: Date, limit: number, cursor?: string): Promise<ConversationPage> {
    const page = await queryShards({
      client: this.client,
      table: this.table,
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

  async waitingForChannel(
    channel: string,
    now: Date | null,
    limit: number,
    cursor?: string,
  ): Promise<ConversationPage> {
    const page = await queryShards({
      client: this.client,
      table: this.table,
      index: 'gsi2',
      base: waitingBase(channel),
      // Not sharded (dynamodb-sweep-keys.ts).
      shards: 1,
      newestFirst: false,
      until: now ? { value: `${now.toISOString()}~`, inclusive: true } : undefined,
      limit,
      cursor,
      tableKey: conversationKey,
    });
    return readConversations(page);
  }

  async countWaitingForChannel(channel: string, upTo: number): Promise<number> {
    // Customers waiting, not acks: an ack that waits after the same person's ack in their other
    // key's conversation (Ack.after, a linked WhatsApp pair) is counted in that one while it
    // waits here too; once that one no longer waits (resolved, answered), this one is owed on its
    // own and counted. A late notice that waits counts whatever the ack does.
    const waiting = new Set<string>();
    const twins: Array<{ id: string; after: string }> = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const result = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: 'gsi2',
          KeyConditionExpression: 'gsi2pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: waitingBase(channel) } },
          ProjectionExpression: '#id, #ack.#after.#conversationId, #notice.#state, #notice.#reason',
          ExpressionAttributeNames: {
            '#id': 'id',
            '#ack': 'ack',
            '#after': 'after',
            '#conversationId': 'conversationId',
            '#notice': 'notice',
            '#state': 'state',
            '#reason': 'reason',
          },
          Limit: upTo - waiting.size,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of result.Items ?? []) {
        const { id, ack, notice } = unmarshall(item) as WaitingEntry;
        waiting.add(id);
        const noticeWaits = notice?.state === 'pending' && notice.reason === CHANNEL_WAIT_REASON;
        if (ack?.after?.conversationId && !noticeWaits) twins.push({ id, after: ack.after.conversationId });
      }
      start = result.LastEvaluatedKey;
    } while (start && waiting.size < upTo);
    // Two that wait for each other (linkedAckVerdict): the one with the lower id is counted.
    const afterOf = new Map(twins.map((twin) => [twin.id, twin.after]));
    const counted = (twin: { id: string; after: string }) =>
      afterOf.get(twin.after) === twin.id && twin.id < twin.after;
    return waiting.size - twins.filter((twin) => waiting.has(twin.after) && !counted(twin)).length;
  }
}

/**
 * A page of conversation items, one at a time: one this release cannot read is named by its
 * key and the fields that failed (never what it held) and skipped, and the cursor is the raw
 * page's, so it continues after it. Failing the page on it would fail the sweep for every
 * customer, or an agents' listing, every time until someone repaired the item.
 */
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
