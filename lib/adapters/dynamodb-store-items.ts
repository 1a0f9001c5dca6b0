// What the conversation store's parts share: its options, items read back without their keys, a contact.

import { type AttributeValue, type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { ChannelSchema, LocaleSchema } from '#lib/domain/channel.ts';
import { type Contact, ContactSchema } from '#lib/domain/contact.ts';
import type { Conversation } from '#lib/domain/conversation.ts';
import type { ShardCount } from './dynamodb-shards.ts';
import { unmarshallWithout } from './dynamodb-unmarshall.ts';

const KEY_ATTRIBUTES = new Set([
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
]);
const MARSHALL = { removeUndefinedValues: true, convertClassInstanceToMap: false } as const;

/** An item as the SDK's unmarshall reads it, without the store's key attributes (dynamodb-unmarshall.ts). */
function strip(item: Record<string, AttributeValue>): Record<string, unknown> {
  return unmarshallWithout(item, KEY_ATTRIBUTES);
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

/** One item by its key, read consistently, without the store's key attributes; null when absent. */
export async function getItem(
  client: DynamoDBClient,
  table: string,
  pk: string,
  sk: string,
): Promise<Record<string, unknown> | null> {
  const result = await client.send(
    new GetItemCommand({ TableName: table, Key: marshall({ pk, sk }), ConsistentRead: true }),
  );
  return result.Item ? strip(result.Item) : null;
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

export { MARSHALL, parseContact, strip };

/** What every part of the conversation store holds: the client, the table, and a consistent read of one item. */
export abstract class StoreItems {
  protected readonly client: DynamoDBClient;
  protected readonly table: string;

  constructor(options: DynamoDbConversationStoreOptions) {
    this.client = options.client;
    this.table = options.tableName;
  }

  protected item(pk: string, sk: string): Promise<Record<string, unknown> | null> {
    return getItem(this.client, this.table, pk, sk);
  }
}
