// The subscriptions' listing for the API: one page at a time, newest first, with a cursor.

import { type DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { z } from 'zod';
import { WebhookIdSchema, type WebhookSubscription, WebhookSubscriptionSchema } from '#lib/domain/webhook.ts';
import { InvalidCursorError } from '#lib/ports/errors.ts';
import { subscriptionFields } from './dynamodb-webhook-items.ts';

export const LIST_PARTITION = 'WEBHOOKS';
const PUBLIC_FIELDS = ['id', 'url', 'events', 'description', 'createdAt', 'disabledAt', 'disabledReason'];

/** A cursor is the base64url of the last listed subscription's index sort key, `<createdAt>#<id>`. */
const SortKey = z.string().refine((key) => {
  const at = key.lastIndexOf('#');
  return (
    z.iso.datetime().safeParse(key.slice(0, at)).success &&
    WebhookIdSchema.safeParse(key.slice(at + 1)).success
  );
});

function decode(cursor: string): { sortKey: string; id: string } {
  const sortKey = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!SortKey.safeParse(sortKey).success || Buffer.from(sortKey).toString('base64url') !== cursor) {
    throw new InvalidCursorError();
  }
  return { sortKey, id: sortKey.slice(sortKey.lastIndexOf('#') + 1) };
}

/**
 * One page of every subscription, disabled ones too, newest first, without secrets (the Query
 * projects the public fields). A page may hold fewer than `limit` (DynamoDB's 1 MB page) and
 * still have a `nextCursor`: only a null one means the end.
 */
export async function listSubscriptionPage(
  client: DynamoDBClient,
  table: string,
  query: { limit: number; cursor?: string | undefined },
): Promise<{ items: WebhookSubscription[]; nextCursor: string | null }> {
  const start = query.cursor === undefined ? undefined : decode(query.cursor);
  const names = Object.fromEntries(PUBLIC_FIELDS.map((field) => [`#${field}`, field]));
  const page = await client.send(
    new QueryCommand({
      TableName: table,
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :pk',
      ProjectionExpression: Object.keys(names).join(', '),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: marshall({ ':pk': LIST_PARTITION }),
      ScanIndexForward: false,
      Limit: query.limit,
      ...(start
        ? {
            ExclusiveStartKey: marshall({
              pk: `WEBHOOK#${start.id}`,
              sk: 'WEBHOOK',
              gsi1pk: LIST_PARTITION,
              gsi1sk: start.sortKey,
            }),
          }
        : {}),
    }),
  );
  const last = page.LastEvaluatedKey?.gsi1sk?.S;
  return {
    items: (page.Items ?? []).map((item) => WebhookSubscriptionSchema.parse(subscriptionFields(item))),
    nextCursor: last === undefined ? null : Buffer.from(last).toString('base64url'),
  };
}
