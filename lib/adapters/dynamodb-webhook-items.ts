// The webhook items' keys, how a stored item reads back, and when a settled delivery expires.

import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { WebhookDelivery } from '#lib/domain/webhook.ts';
import { tableKeyFromSortKey } from './dynamodb-shards.ts';

const KEY_ATTRIBUTES = ['pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk', 'type', 'expiresAt'];
/** How long a delivered or failed webhook delivery stays in the log. */
export const DELIVERY_LOG_DAYS = 30;

/**
 * When DynamoDB's TTL removes a settled delivery: DELIVERY_LOG_DAYS after it settled (one
 * abandoned before any attempt, its subscription gone or deleted: after its creation); never
 * while it is pending. Epoch seconds.
 */
export function expiresAtOf(
  delivery: Pick<WebhookDelivery, 'state' | 'deliveredAt' | 'lastAttemptAt' | 'createdAt'>,
): number | null {
  if (delivery.state === 'pending') return null;
  const settledAt = delivery.deliveredAt ?? delivery.lastAttemptAt ?? delivery.createdAt;
  return Math.ceil(Date.parse(settledAt) / 1000) + DELIVERY_LOG_DAYS * 86_400;
}

export const subscriptionKey = (id: string) => marshall({ pk: `WEBHOOK#${id}`, sk: 'WEBHOOK' });
export const deliveryKey = (id: string) => marshall({ pk: `WHDELIVERY#${id}`, sk: 'WHDELIVERY' });
export const deliveriesPartition = (subscriptionId: string) => `WEBHOOK#${subscriptionId}#DELIVERIES`;
// Both delivery indexes sort by `<time>#<delivery id>`.
export const deliveryTableKey = tableKeyFromSortKey('WHDELIVERY', 'WHDELIVERY');

// Absent attributes mean null: disableSubscription's if_not_exists needs them absent.
export function subscriptionFields(item: Record<string, AttributeValue>): Record<string, unknown> {
  const plain = unmarshall(item);
  for (const key of KEY_ATTRIBUTES) delete plain[key];
  return {
    ...plain,
    description: plain.description ?? null,
    disabledAt: plain.disabledAt ?? null,
    disabledReason: plain.disabledReason ?? null,
    firstAttemptsPausedUntil: plain.firstAttemptsPausedUntil ?? null,
    retryAfterUntil: plain.retryAfterUntil ?? null,
    failingSince: plain.failingSince ?? null,
    previousSecret: plain.previousSecret ?? null,
    previousSecretExpiresAt: plain.previousSecretExpiresAt ?? null,
    secretRotatedAt: plain.secretRotatedAt ?? null,
  };
}

export function deliveryFields(item: Record<string, AttributeValue>): Record<string, unknown> {
  const plain = unmarshall(item);
  for (const key of KEY_ATTRIBUTES) delete plain[key];
  return plain;
}
