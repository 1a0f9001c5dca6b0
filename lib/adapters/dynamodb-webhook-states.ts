// A subscription's enabled state: its endpoint's failing streak, disabling it for failing, enabling it again.

import { type DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { applied } from './dynamodb-conditional.ts';
import { subscriptionKey } from './dynamodb-webhook-items.ts';

// Every time below is an ISO 8601 UTC timestamp of one length (toISOString): they sort as text.

type Table = { client: DynamoDBClient; table: string };

/** Starts the endpoint's failing streak at `since`, unless one is under way (the first failure's stands). */
export function markFailingWrite({ client, table }: Table, id: string, since: Date): Promise<boolean> {
  return applied(
    client.send(
      new UpdateItemCommand({
        TableName: table,
        Key: subscriptionKey(id),
        UpdateExpression: 'SET failingSince = :since',
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(failingSince)',
        ExpressionAttributeValues: marshall({ ':since': since.toISOString() }),
      }),
    ),
  );
}

/**
 * Disables it as `failing` at `at` if it is enabled and its streak began at or before `cutoff`:
 * a success that ended the streak first (failingSince removed, or a newer one) wins. The streak
 * is kept on the item, so a success under way as this lands undoes it (clearFailingWrite).
 * True only for the write that disabled it: a retry, or another process with the same view, gets false.
 */
export function disableFailingWrite({ client, table }: Table, id: string, at: Date, cutoff: Date) {
  return applied(
    client.send(
      new UpdateItemCommand({
        TableName: table,
        Key: subscriptionKey(id),
        UpdateExpression: 'SET disabledAt = :at, disabledReason = :failing',
        ConditionExpression: 'attribute_not_exists(disabledAt) AND failingSince <= :cutoff',
        ExpressionAttributeValues: marshall({
          ':at': at.toISOString(),
          ':failing': 'failing',
          ':cutoff': cutoff.toISOString(),
        }),
      }),
    ),
  );
}

/**
 * Ends the failing streak after a delivery the endpoint accepted, in an attempt begun at
 * `startedAt`: unless a failure that began later started a new one. When the streak had
 * disabled it at or after that start (the success was under way as the disabling landed), it is
 * enabled again: the success wins. `reenabled` says so; false when there was nothing to end.
 */
export async function clearFailingWrite(
  { client, table }: Table,
  id: string,
  startedAt: Date,
): Promise<{ cleared: boolean; reenabled: boolean }> {
  let reenabled = false;
  const cleared = await applied(
    client
      .send(
        new UpdateItemCommand({
          TableName: table,
          Key: subscriptionKey(id),
          UpdateExpression: 'REMOVE failingSince, disabledAt, disabledReason',
          ConditionExpression:
            'failingSince <= :started AND (attribute_not_exists(disabledAt) OR (disabledReason = :failing AND disabledAt >= :started))',
          ExpressionAttributeValues: marshall({ ':started': startedAt.toISOString(), ':failing': 'failing' }),
          ReturnValues: 'UPDATED_OLD',
        }),
      )
      .then((result) => {
        reenabled = result.Attributes?.disabledAt !== undefined;
        return result;
      }),
  );
  return { cleared, reenabled };
}

/**
 * Enables a disabled subscription again (PATCH `enabled: true`), its failing streak ended with
 * it, so its 5 days start again; never one an admin deleted. False when it is not disabled (any
 * more), deleted, or missing: the caller reads it again to tell which.
 */
export function enableWrite({ client, table }: Table, id: string): Promise<boolean> {
  return applied(
    client.send(
      new UpdateItemCommand({
        TableName: table,
        Key: subscriptionKey(id),
        UpdateExpression: 'REMOVE disabledAt, disabledReason, failingSince',
        ConditionExpression: 'attribute_exists(disabledAt) AND disabledReason <> :deleted',
        ExpressionAttributeValues: marshall({ ':deleted': 'deleted' }),
      }),
    ),
  );
}
