// The subscriptions' listing for the API: one page at a time, newest first, with a cursor.

import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type WebhookSubscription, WebhookSubscriptionSchema } from '#lib/domain/webhook.ts';
import { queryShards, tableKeyFromSortKey } from './dynamodb-shards.ts';
import { subscriptionFields } from './dynamodb-webhook-items.ts';

export const LIST_PARTITION = 'WEBHOOKS';
const PUBLIC_FIELDS = ['id', 'url', 'events', 'description', 'createdAt', 'disabledAt', 'disabledReason'];

/**
 * One page of every subscription, disabled ones too, newest first, without secrets (the Query
 * projects the public fields). The listing key is unsharded (subscriptions are written rarely),
 * so it is the shared sharded listing's one-shard case, with its cursor: one it did not issue
 * throws InvalidCursorError. A page may hold fewer than `limit` (DynamoDB's 1 MB page) and
 * still have a `nextCursor`: only a null one means the end.
 */
export async function listSubscriptionPage(
  client: DynamoDBClient,
  table: string,
  query: { limit: number; cursor?: string | undefined },
): Promise<{ items: WebhookSubscription[]; nextCursor: string | null }> {
  const page = await queryShards({
    client,
    table,
    index: 'gsi1',
    base: LIST_PARTITION,
    shards: 1,
    newestFirst: true,
    limit: query.limit,
    cursor: query.cursor,
    tableKey: tableKeyFromSortKey('WEBHOOK', 'WEBHOOK'),
    projection: PUBLIC_FIELDS,
  });
  return {
    items: page.items.map((item) => WebhookSubscriptionSchema.parse(subscriptionFields(item))),
    nextCursor: page.nextCursor,
  };
}
