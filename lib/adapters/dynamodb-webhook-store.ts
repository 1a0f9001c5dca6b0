import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { z } from 'zod';
import {
  type SecretRotation,
  type StoredWebhookSubscription,
  StoredWebhookSubscriptionSchema,
  type WebhookDelivery,
  WebhookDeliverySchema,
  type WebhookSubscription,
  WebhookSubscriptionSchema,
} from '#lib/domain/webhook.ts';
import { InvalidCursorError } from '#lib/ports/errors.ts';
import type { DeliveryPage, WebhookStore } from '#lib/ports/webhook-store.ts';
import { BackfillProgress } from './dynamodb-backfill-progress.ts';
import { applied } from './dynamodb-conditional.ts';
import { marshallStored } from './dynamodb-marshall.ts';
import { queryShards, type ShardCount, shardKey, tableKeyFromSortKey } from './dynamodb-shards.ts';

const LIST_PARTITION = 'WEBHOOKS';
const DUE_PARTITION = 'WEBHOOK';
// Subscriptions are few (one per downstream tool); the cap only bounds a runaway listing.
const MAX_LISTED = 1_000;
const KEY_ATTRIBUTES = ['pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk', 'type', 'expiresAt'];
/** How long a delivered or failed webhook delivery stays in the log. */
export const DELIVERY_LOG_DAYS = 30;
const PUBLIC_FIELDS = ['id', 'url', 'events', 'description', 'createdAt', 'disabledAt', 'disabledReason'];
const MARSHALL = { removeUndefinedValues: true, convertClassInstanceToMap: false } as const;

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

/**
 * When DynamoDB's TTL removes a settled delivery: DELIVERY_LOG_DAYS after it settled (one
 * abandoned before any attempt, its subscription gone or deleted: after its creation); never
 * while it is pending. Epoch seconds.
 */
function expiresAtOf(
  delivery: Pick<WebhookDelivery, 'state' | 'deliveredAt' | 'lastAttemptAt' | 'createdAt'>,
): number | null {
  if (delivery.state === 'pending') return null;
  const settledAt = delivery.deliveredAt ?? delivery.lastAttemptAt ?? delivery.createdAt;
  return Math.ceil(Date.parse(settledAt) / 1000) + DELIVERY_LOG_DAYS * 86_400;
}

const subscriptionKey = (id: string) => marshall({ pk: `WEBHOOK#${id}`, sk: 'WEBHOOK' });
const deliveryKey = (id: string) => marshall({ pk: `WHDELIVERY#${id}`, sk: 'WHDELIVERY' });
const deliveriesPartition = (subscriptionId: string) => `WEBHOOK#${subscriptionId}#DELIVERIES`;
// Both delivery indexes sort by `<time>#<delivery id>`.
const deliveryTableKey = tableKeyFromSortKey('WHDELIVERY', 'WHDELIVERY');

// Absent attributes mean null: disableSubscription's if_not_exists needs them absent.
function subscriptionFields(item: Record<string, AttributeValue>): Record<string, unknown> {
  const plain = unmarshall(item);
  for (const key of KEY_ATTRIBUTES) delete plain[key];
  return {
    ...plain,
    description: plain.description ?? null,
    disabledAt: plain.disabledAt ?? null,
    disabledReason: plain.disabledReason ?? null,
    firstAttemptsPausedUntil: plain.firstAttemptsPausedUntil ?? null,
    previousSecret: plain.previousSecret ?? null,
    previousSecretExpiresAt: plain.previousSecretExpiresAt ?? null,
  };
}

function deliveryFields(item: Record<string, AttributeValue>): Record<string, unknown> {
  const plain = unmarshall(item);
  for (const key of KEY_ATTRIBUTES) delete plain[key];
  return plain;
}

/**
 * Webhook subscriptions and deliveries in the single table (see docs/store.md):
 * - subscription  pk WEBHOOK#<id>        sk WEBHOOK     gsi1 WEBHOOKS / <createdAt>#<id>
 * - delivery      pk WHDELIVERY#<id>     sk WHDELIVERY  gsi1 WEBHOOK#<subscriptionId>#DELIVERIES / <createdAt>#<id>
 *                                                       gsi2 WEBHOOK / <nextAttemptAt>#<id> (only while pending)
 * Every listing is a Query, never a Scan; the due index is sparse. A delivery's two keys take
 * every event's writes (three per delivery), so they are sharded by delivery id (dynamodb-shards.ts).
 */
export class DynamoDbWebhookStore implements WebhookStore {
  readonly #client: DynamoDBClient;
  readonly #table: string;
  readonly #cacheMs: number;
  readonly #shards: ShardCount;
  readonly #backfill: BackfillProgress<Backfill>;
  #enabled: { at: number; list: Promise<StoredWebhookSubscription[]> } | null = null;
  /** The expiry backfill finished (seen in the table): this process never asks again. */
  #backfillDone = false;

  /**
   * `enabledCacheMs`: how long this process reuses the enabled subscriptions it read. Every
   * conversation write publishes, and one Query each would double the table's load under a
   * burst; the price is that another Lambda sees a new or deleted subscription that much later.
   */
  constructor(options: {
    client: DynamoDBClient;
    tableName: string;
    shards: ShardCount;
    enabledCacheMs?: number;
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
    this.#cacheMs = options.enabledCacheMs ?? 10_000;
  }

  async createSubscription(subscription: StoredWebhookSubscription): Promise<void> {
    this.#enabled = null;
    const item = {
      ...subscription,
      pk: `WEBHOOK#${subscription.id}`,
      sk: 'WEBHOOK',
      type: 'webhook',
      gsi1pk: LIST_PARTITION,
      gsi1sk: `${subscription.createdAt}#${subscription.id}`,
      events: [...subscription.events],
      description: subscription.description ?? undefined,
      disabledAt: subscription.disabledAt ?? undefined,
      disabledReason: subscription.disabledReason ?? undefined,
      firstAttemptsPausedUntil: subscription.firstAttemptsPausedUntil ?? undefined,
      previousSecret: subscription.previousSecret ?? undefined,
      previousSecretExpiresAt: subscription.previousSecretExpiresAt ?? undefined,
    };
    await this.#client.send(
      new PutItemCommand({
        TableName: this.#table,
        Item: marshall(item, MARSHALL),
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async getSubscription(id: string): Promise<StoredWebhookSubscription | null> {
    const result = await this.#client.send(
      new GetItemCommand({ TableName: this.#table, Key: subscriptionKey(id), ConsistentRead: true }),
    );
    return result.Item ? StoredWebhookSubscriptionSchema.parse(subscriptionFields(result.Item)) : null;
  }

  async listSubscriptions(): Promise<WebhookSubscription[]> {
    const names = Object.fromEntries(PUBLIC_FIELDS.map((field) => [`#${field}`, field]));
    // The secret never leaves the table on a listing.
    const items = await this.#listAll({ ProjectionExpression: Object.keys(names).join(', '), names });
    return items.map((item) => WebhookSubscriptionSchema.parse(subscriptionFields(item)));
  }

  listEnabledSubscriptions(): Promise<StoredWebhookSubscription[]> {
    const now = Date.now();
    if (this.#enabled && now - this.#enabled.at < this.#cacheMs) return this.#enabled.list;
    // Concurrent publishes share one read; a failed read is not kept.
    const list = this.#readEnabled();
    this.#enabled = { at: now, list };
    list.catch(() => {
      if (this.#enabled?.list === list) this.#enabled = null;
    });
    return list;
  }

  async #readEnabled(): Promise<StoredWebhookSubscription[]> {
    const items = await this.#listAll({ FilterExpression: 'attribute_not_exists(disabledAt)' });
    return items.map((item) => StoredWebhookSubscriptionSchema.parse(subscriptionFields(item)));
  }

  async #listAll(options: {
    ProjectionExpression?: string;
    FilterExpression?: string;
    names?: Record<string, string>;
  }): Promise<Record<string, AttributeValue>[]> {
    const items: Record<string, AttributeValue>[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.#client.send(
        new QueryCommand({
          TableName: this.#table,
          IndexName: 'gsi1',
          KeyConditionExpression: 'gsi1pk = :pk',
          ProjectionExpression: options.ProjectionExpression,
          FilterExpression: options.FilterExpression,
          ExpressionAttributeNames: options.names,
          ExpressionAttributeValues: marshall({ ':pk': LIST_PARTITION }),
          ScanIndexForward: false,
          ExclusiveStartKey: start,
        }),
      );
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start && items.length < MAX_LISTED);
    return items;
  }

  async rotateSecret(id: string, rotation: SecretRotation, current: string): Promise<boolean> {
    this.#enabled = null;
    const { secret, previousSecret, previousSecretExpiresAt } = rotation;
    const keep = previousSecret !== null && previousSecretExpiresAt !== null;
    return applied(
      this.#client.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: subscriptionKey(id),
          UpdateExpression: keep
            ? 'SET #secret = :secret, previousSecret = :previous, previousSecretExpiresAt = :expires'
            : 'SET #secret = :secret REMOVE previousSecret, previousSecretExpiresAt',
          // One rotation of a given secret wins; a disabled subscription keeps its secrets.
          ConditionExpression: '#secret = :current AND attribute_not_exists(disabledAt)',
          ExpressionAttributeNames: { '#secret': 'secret' },
          ExpressionAttributeValues: marshall({
            ':secret': secret,
            ':current': current,
            ...(keep ? { ':previous': previousSecret, ':expires': previousSecretExpiresAt } : {}),
          }),
        }),
      ),
    );
  }

  async disableSubscription(id: string, at: Date, reason: 'deleted' | 'gone'): Promise<boolean> {
    this.#enabled = null;
    return applied(
      this.#client.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: subscriptionKey(id),
          // A second disable keeps the first time and reason: DELETE is idempotent.
          UpdateExpression:
            'SET disabledAt = if_not_exists(disabledAt, :at), disabledReason = if_not_exists(disabledReason, :reason)',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: marshall({ ':at': at.toISOString(), ':reason': reason }),
        }),
      ),
    );
  }

  async pauseFirstAttempts(id: string, until: Date): Promise<void> {
    const pausedUntil = until.toISOString();
    await applied(
      this.#client.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: subscriptionKey(id),
          UpdateExpression: 'SET firstAttemptsPausedUntil = :until',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: marshall({ ':until': pausedUntil }),
        }),
      ),
    );
    this.#patchEnabled(id, pausedUntil);
  }

  async resumeFirstAttempts(id: string, latest: Date): Promise<void> {
    // ISO 8601 UTC timestamps of one length (toISOString) sort as text.
    const until = latest.toISOString();
    await applied(
      this.#client.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: subscriptionKey(id),
          UpdateExpression: 'REMOVE firstAttemptsPausedUntil',
          // A pause set since the attempt began (a later slow failure) stands.
          ConditionExpression: 'firstAttemptsPausedUntil <= :latest',
          ExpressionAttributeValues: marshall({ ':latest': until }),
        }),
      ),
    );
    this.#patchEnabled(id, null, until);
  }

  /**
   * This process's cached enabled list, changed as just written: its next publish sees the
   * pause (or its end) without another Query. When `latest` is given, only a pause lasting no
   * later is cleared.
   */
  #patchEnabled(id: string, pausedUntil: string | null, latest?: string): void {
    const cached = this.#enabled;
    if (!cached) return;
    const ends = (current: string | null) => latest === undefined || (current !== null && current <= latest);
    const list = cached.list.then((subscriptions) =>
      subscriptions.map((subscription) =>
        subscription.id === id && ends(subscription.firstAttemptsPausedUntil)
          ? { ...subscription, firstAttemptsPausedUntil: pausedUntil }
          : subscription,
      ),
    );
    this.#enabled = { at: cached.at, list };
    list.catch(() => {
      if (this.#enabled?.list === list) this.#enabled = null;
    });
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
