// Webhook deliveries: their items (sharded, in the sweeper's due index while pending) and listings.

import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { type WebhookDelivery, WebhookDeliverySchema } from '#lib/domain/webhook.ts';
import type { DeliveryPage } from '#lib/ports/webhook-store.ts';
import { applied } from './dynamodb-conditional.ts';
import { marshallStored } from './dynamodb-marshall.ts';
import { queryShards, type ShardCount, shardKey } from './dynamodb-shards.ts';
import {
  deliveriesPartition,
  deliveryFields,
  deliveryKey,
  deliveryTableKey,
  expiresAtOf,
} from './dynamodb-webhook-items.ts';

const DUE_PARTITION = 'WEBHOOK';

/** The deliveries' half of DynamoDbWebhookStore (see its layout). */
export class DynamoDbWebhookDeliveries {
  readonly #client: DynamoDBClient;
  readonly #table: string;
  readonly #shards: ShardCount;

  constructor(options: { client: DynamoDBClient; tableName: string; shards: ShardCount }) {
    this.#client = options.client;
    this.#table = options.tableName;
    this.#shards = options.shards;
  }

  async createDelivery(delivery: WebhookDelivery): Promise<boolean> {
    return applied(
      this.#client.send(
        new PutItemCommand({
          TableName: this.#table,
          Item: this.#deliveryItem(delivery),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
  }

  async getDelivery(id: string): Promise<WebhookDelivery | null> {
    const result = await this.#client.send(
      new GetItemCommand({ TableName: this.#table, Key: deliveryKey(id), ConsistentRead: true }),
    );
    return result.Item ? WebhookDeliverySchema.parse(deliveryFields(result.Item)) : null;
  }

  async saveDelivery(delivery: WebhookDelivery): Promise<WebhookDelivery | null> {
    const saved = { ...delivery, version: delivery.version + 1 };
    try {
      await this.#client.send(
        new PutItemCommand({
          TableName: this.#table,
          Item: this.#deliveryItem(saved),
          ConditionExpression: 'version = :version',
          ExpressionAttributeValues: marshall({ ':version': delivery.version }),
        }),
      );
      return saved;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return null;
      throw error;
    }
  }

  async listDeliveries(
    subscriptionId: string,
    query: { limit: number; cursor?: string; since?: string },
  ): Promise<DeliveryPage> {
    const page = await queryShards({
      client: this.#client,
      table: this.#table,
      index: 'gsi1',
      base: deliveriesPartition(subscriptionId),
      shards: await this.#shards.forReading(),
      newestFirst: true,
      until: query.since ? { value: query.since, inclusive: true } : undefined,
      limit: query.limit,
      cursor: query.cursor,
      tableKey: deliveryTableKey,
    });
    const items = page.items.map((item) => WebhookDeliverySchema.parse(deliveryFields(item)));
    return { items, nextCursor: page.nextCursor };
  }

  async dueDeliveries(now: Date, limit: number, cursor?: string): Promise<DeliveryPage> {
    const page = await queryShards({
      client: this.#client,
      table: this.#table,
      index: 'gsi2',
      base: DUE_PARTITION,
      shards: await this.#shards.forReading(),
      newestFirst: false,
      // '~' sorts after every id character: everything due at `now`, whatever its id.
      until: { value: `${now.toISOString()}#~`, inclusive: true },
      limit,
      cursor,
      tableKey: deliveryTableKey,
    });
    const items = page.items.map((item) => WebhookDeliverySchema.parse(deliveryFields(item)));
    return { items, nextCursor: page.nextCursor };
  }

  #deliveryItem(delivery: WebhookDelivery): Record<string, AttributeValue> {
    const due = delivery.state === 'pending' && delivery.nextAttemptAt !== null;
    const expiresAt = expiresAtOf(delivery);
    return marshallStored({
      ...delivery,
      // A settled delivery stays in the log (and can be replayed) for DELIVERY_LOG_DAYS, then
      // DynamoDB's TTL removes it: one item per event and subscription would grow for ever.
      ...(expiresAt === null ? {} : { expiresAt }),
      pk: `WHDELIVERY#${delivery.id}`,
      sk: 'WHDELIVERY',
      type: 'webhook-delivery',
      gsi1pk: shardKey(deliveriesPartition(delivery.subscriptionId), delivery.id, this.#shards.forWriting),
      gsi1sk: `${delivery.createdAt}#${delivery.id}`,
      // Sparse: only a pending delivery is in the sweeper's index.
      ...(due
        ? {
            gsi2pk: shardKey(DUE_PARTITION, delivery.id, this.#shards.forWriting),
            gsi2sk: `${delivery.nextAttemptAt}#${delivery.id}`,
          }
        : {}),
    });
  }
}
