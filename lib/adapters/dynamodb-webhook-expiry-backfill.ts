// The one-off backfill of expiresAt on the settled webhook deliveries stored before stop 24.

import { type AttributeValue, type DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { z } from 'zod';
import type { WebhookDelivery } from '#lib/domain/webhook.ts';
import { InvalidCursorError } from '#lib/ports/errors.ts';
import { BackfillProgress } from './dynamodb-backfill-progress.ts';
import { applied } from './dynamodb-conditional.ts';
import { queryShards, type ShardCount } from './dynamodb-shards.ts';
import {
  deliveriesPartition,
  deliveryFields,
  deliveryKey,
  deliveryTableKey,
  expiresAtOf,
} from './dynamodb-webhook-items.ts';
import type { DynamoDbWebhookSubscriptions } from './dynamodb-webhook-subscriptions.ts';

/**
 * Where the one-off backfill of the log's expiresAt (deliveries stored before stop 24 had none)
 * has got to: the subscription whose log it reads and its cursor there, subscriptions in id
 * order; `until` is when it began: a delivery created after that was written by a release
 * that sets expiresAt itself. Delete the item to run it again (after a rollback past stop 24).
 */
const BackfillSchema = z.object({
  until: z.iso.datetime(),
  subscriptionId: z.string().nullable(),
  cursor: z.string().nullable(),
  done: z.boolean(),
  version: z.number().int(),
});
type Backfill = z.infer<typeof BackfillSchema>;

/** DynamoDbWebhookStore's backfillDeliveryExpiry: the subscriptions come from `listAll`. */
export class DynamoDbWebhookExpiryBackfill {
  readonly #client: DynamoDBClient;
  readonly #table: string;
  readonly #shards: ShardCount;
  readonly #backfill: BackfillProgress<Backfill>;
  readonly #listAll: DynamoDbWebhookSubscriptions['listAll'];
  /** The expiry backfill finished (seen in the table): this process never asks again. */
  #backfillDone = false;

  constructor(options: {
    client: DynamoDBClient;
    tableName: string;
    shards: ShardCount;
    listAll: DynamoDbWebhookSubscriptions['listAll'];
  }) {
    this.#client = options.client;
    this.#table = options.tableName;
    this.#shards = options.shards;
    this.#backfill = new BackfillProgress({
      client: options.client,
      tableName: options.tableName,
      name: 'webhook-delivery-expiry',
      schema: BackfillSchema,
    });
    this.#listAll = options.listAll;
  }

  /**
   * A one-off backfill, run by the sweeper until done: gives the settled deliveries stored
   * before stop 24, which have no expiresAt and so would stay for ever, the expiry they would
   * have had (expiresAtOf: one that settled over 30 days ago leaves at DynamoDB's next TTL pass).
   * It reads each subscription's log oldest first with Queries (never a Scan), at most
   * `pageSize` deliveries a call, and stores where it got to after each page, so a crash or
   * the next run resumes there; each write is conditional on the item still lacking the field
   * and being settled, so a repeat or a second sweeper changes nothing. Once done, the call
   * costs one GetItem per process, then nothing.
   */
  async backfillDeliveryExpiry(
    now: Date,
    options: { pageSize?: number; pages?: number } = {},
  ): Promise<{ updated: number; done: boolean }> {
    const { pageSize = 100, pages = 10 } = options;
    if (this.#backfillDone) return { updated: 0, done: true };
    let at = await this.#backfill.read();
    if (at?.done) {
      this.#backfillDone = true;
      return { updated: 0, done: true };
    }
    // Subscriptions are few and never deleted (a deleted one is disabled, its log kept).
    const ids = (await this.#listAll({ ProjectionExpression: '#id', names: { '#id': 'id' } }))
      .map((item) => String(unmarshall(item).id))
      .sort();
    let updated = 0;
    for (let page = 0; page < pages && !this.#backfillDone; page++) {
      const from: Backfill = at ?? {
        until: now.toISOString(),
        subscriptionId: ids[0] ?? null,
        cursor: null,
        done: ids.length === 0,
        version: 0,
      };
      let next: Backfill = { ...from, version: from.version + 1 };
      if (from.subscriptionId !== null && !from.done) {
        const subscriptionId = from.subscriptionId;
        const read = await this.#oldestDeliveries(subscriptionId, from, pageSize);
        const writes = await Promise.all(read.items.map((item) => this.#giveExpiry(item)));
        updated += writes.filter(Boolean).length;
        const following = ids.find((id) => id > subscriptionId) ?? null;
        next = read.nextCursor
          ? { ...next, cursor: read.nextCursor }
          : { ...next, subscriptionId: following, cursor: null, done: following === null };
      }
      // Conditional on the version read: a second sweeper that got further is not sent back.
      const saved = await this.#backfill.save(next, at);
      if (!saved) break;
      at = next;
      if (next.done) this.#backfillDone = true;
    }
    return { updated, done: this.#backfillDone };
  }

  /** A page of a subscription's deliveries created before the backfill began, oldest first. */
  async #oldestDeliveries(
    subscriptionId: string,
    at: Backfill,
    pageSize: number,
  ): Promise<{ items: Record<string, AttributeValue>[]; nextCursor: string | null }> {
    const query = {
      client: this.#client,
      table: this.#table,
      index: 'gsi1',
      base: deliveriesPartition(subscriptionId),
      shards: await this.#shards.forReading(),
      newestFirst: false,
      // '~' sorts after every id character: everything created at `until`, whatever its id.
      until: { value: `${at.until}#~`, inclusive: true },
      limit: pageSize,
      tableKey: deliveryTableKey,
    };
    try {
      return await queryShards({ ...query, cursor: at.cursor ?? undefined });
    } catch (error) {
      // The index's shard count changed since the cursor was stored: this log again from its
      // start (what is done already is skipped by its condition).
      if (!(error instanceof InvalidCursorError) || at.cursor === null) throw error;
      return queryShards(query);
    }
  }

  /**
   * Sets a settled delivery's missing expiresAt; false when it has one, or is pending or gone.
   * Those the page shows with one (every delivery settled since stop 24) or pending cost no
   * write: a refused conditional write is billed like one that succeeds.
   */
  async #giveExpiry(item: Record<string, AttributeValue>): Promise<boolean> {
    if (item.expiresAt !== undefined) return false;
    const delivery = deliveryFields(item) as Partial<WebhookDelivery>;
    if (!delivery.id || !delivery.state || !delivery.createdAt) return false;
    const expiresAt = expiresAtOf({
      state: delivery.state,
      deliveredAt: delivery.deliveredAt ?? null,
      lastAttemptAt: delivery.lastAttemptAt ?? null,
      createdAt: delivery.createdAt,
    });
    if (expiresAt === null) return false;
    return applied(
      this.#client.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: deliveryKey(delivery.id),
          UpdateExpression: 'SET expiresAt = :expiresAt',
          ConditionExpression:
            'attribute_exists(pk) AND attribute_not_exists(expiresAt) AND #state <> :pending',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: marshall({ ':expiresAt': expiresAt, ':pending': 'pending' }),
        }),
      ),
    );
  }
}
