// Webhook subscriptions: their items, the listings (the enabled ones cached), secrets, disabling, pauses.

import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import {
  type SecretRotation,
  type StoredWebhookSubscription,
  StoredWebhookSubscriptionSchema,
  type WebhookSubscription,
} from '#lib/domain/webhook.ts';
import { applied } from './dynamodb-conditional.ts';
import { subscriptionFields, subscriptionKey } from './dynamodb-webhook-items.ts';
import { LIST_PARTITION, listSubscriptionPage } from './dynamodb-webhook-listing.ts';
import {
  clearFailingWrite,
  disableFailingWrite,
  enableWrite,
  markFailingWrite,
} from './dynamodb-webhook-states.ts';

const MARSHALL = { removeUndefinedValues: true, convertClassInstanceToMap: false } as const;

/** The subscriptions' half of DynamoDbWebhookStore (see its layout). */
export class DynamoDbWebhookSubscriptions {
  readonly #client: DynamoDBClient;
  readonly #table: string;
  readonly #cacheMs: number;
  #enabled: { at: number; list: Promise<StoredWebhookSubscription[]> } | null = null;

  /** `enabledCacheMs`: as DynamoDbWebhookStore's constructor takes it. */
  constructor(options: { client: DynamoDBClient; tableName: string; enabledCacheMs?: number }) {
    this.#client = options.client;
    this.#table = options.tableName;
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
      retryAfterUntil: subscription.retryAfterUntil ?? undefined,
      failingSince: subscription.failingSince ?? undefined,
      previousSecret: subscription.previousSecret ?? undefined,
      previousSecretExpiresAt: subscription.previousSecretExpiresAt ?? undefined,
      secretRotatedAt: subscription.secretRotatedAt ?? undefined,
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

  listSubscriptions(query: {
    limit: number;
    cursor?: string | undefined;
  }): Promise<{ items: WebhookSubscription[]; nextCursor: string | null }> {
    // The secret never leaves the table on a listing.
    return listSubscriptionPage(this.#client, this.#table, query);
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

  /**
   * Every enabled subscription, to the last page: creation refuses more than
   * MAX_ENABLED_WEBHOOKS, so the list stays small (the disabled ones are read and filtered out).
   */
  async #readEnabled(): Promise<StoredWebhookSubscription[]> {
    const items = await this.listAll({ FilterExpression: 'attribute_not_exists(disabledAt)' });
    return items.map((item) => StoredWebhookSubscriptionSchema.parse(subscriptionFields(item)));
  }

  /** Every subscription item the filter keeps, to the last page (the backfill reads all ids). */
  async listAll(options: {
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
    } while (start);
    return items;
  }

  async rotateSecret(id: string, rotation: SecretRotation, current: string): Promise<boolean> {
    this.#enabled = null;
    const { secret, previousSecret, previousSecretExpiresAt, secretRotatedAt } = rotation;
    const keep = previousSecret !== null && previousSecretExpiresAt !== null;
    return applied(
      this.#client.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: subscriptionKey(id),
          UpdateExpression: keep
            ? 'SET #secret = :secret, secretRotatedAt = :at, previousSecret = :previous, previousSecretExpiresAt = :expires'
            : 'SET #secret = :secret, secretRotatedAt = :at REMOVE previousSecret, previousSecretExpiresAt',
          // One rotation of a given secret wins; a disabled subscription keeps its secrets.
          ConditionExpression: '#secret = :current AND attribute_not_exists(disabledAt)',
          ExpressionAttributeNames: { '#secret': 'secret' },
          ExpressionAttributeValues: marshall({
            ':secret': secret,
            ':current': current,
            ':at': secretRotatedAt,
            ...(keep ? { ':previous': previousSecret, ':expires': previousSecretExpiresAt } : {}),
          }),
        }),
      ),
    );
  }

  async disableSubscription(id: string, at: Date, reason: 'deleted' | 'gone' | 'manual'): Promise<boolean> {
    this.#enabled = null;
    return applied(
      this.#client.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: subscriptionKey(id),
          // Idempotent: the first time and reason stay, but DELETE's (never enabled again) wins.
          UpdateExpression:
            reason === 'deleted'
              ? 'SET disabledAt = if_not_exists(disabledAt, :at), disabledReason = :reason'
              : 'SET disabledAt = if_not_exists(disabledAt, :at), disabledReason = if_not_exists(disabledReason, :reason)',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: marshall({ ':at': at.toISOString(), ':reason': reason }),
        }),
      ),
    );
  }

  async enableSubscription(id: string): Promise<boolean> {
    this.#enabled = null;
    return enableWrite({ client: this.#client, table: this.#table }, id);
  }

  /** Cached as under way either way (another process's began a little earlier): the next failures write nothing. */
  async markFailing(id: string, since: Date): Promise<void> {
    await markFailingWrite({ client: this.#client, table: this.#table }, id, since);
    const failingSince = since.toISOString();
    this.#patchCached(id, (subscription) => ({
      ...subscription,
      failingSince: subscription.failingSince ?? failingSince,
    }));
  }

  async disableFailing(id: string, at: Date, cutoff: Date): Promise<boolean> {
    const disabled = await disableFailingWrite({ client: this.#client, table: this.#table }, id, at, cutoff);
    if (disabled) this.#enabled = null;
    return disabled;
  }

  async clearFailing(id: string, startedAt: Date): Promise<{ reenabled: boolean }> {
    const { cleared, reenabled } = await clearFailingWrite(
      { client: this.#client, table: this.#table },
      id,
      startedAt,
    );
    // Not cleared (another success did, or a later failure began a new streak): uncached all the same.
    if (reenabled) this.#enabled = null;
    else this.#patchCached(id, (subscription) => ({ ...subscription, failingSince: null }));
    return { reenabled: cleared && reenabled };
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

  async holdDeliveries(id: string, until: Date): Promise<void> {
    const heldUntil = until.toISOString();
    const written = await applied(
      this.#client.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: subscriptionKey(id),
          UpdateExpression: 'SET retryAfterUntil = :until',
          // A longer hold another answer set stands (ISO 8601 UTC times of one length sort as text).
          ConditionExpression:
            'attribute_exists(pk) AND (attribute_not_exists(retryAfterUntil) OR retryAfterUntil < :until)',
          ExpressionAttributeValues: marshall({ ':until': heldUntil }),
        }),
      ),
    );
    if (written) {
      this.#patchCached(id, (subscription) =>
        (subscription.retryAfterUntil ?? '') < heldUntil
          ? { ...subscription, retryAfterUntil: heldUntil }
          : subscription,
      );
    }
  }

  /**
   * This process's cached enabled list, changed as just written: its next publish sees the
   * pause (or its end) without another Query. When `latest` is given, only a pause lasting no
   * later is cleared.
   */
  #patchEnabled(id: string, pausedUntil: string | null, latest?: string): void {
    const ends = (current: string | null) => latest === undefined || (current !== null && current <= latest);
    this.#patchCached(id, (subscription) =>
      ends(subscription.firstAttemptsPausedUntil)
        ? { ...subscription, firstAttemptsPausedUntil: pausedUntil }
        : subscription,
    );
  }

  /** Changes one subscription of this process's cached enabled list, if it holds one. */
  #patchCached(id: string, change: (subscription: StoredWebhookSubscription) => StoredWebhookSubscription) {
    const cached = this.#enabled;
    if (!cached) return;
    const list = cached.list.then((subscriptions) =>
      subscriptions.map((subscription) => (subscription.id === id ? change(subscription) : subscription)),
    );
    this.#enabled = { at: cached.at, list };
    list.catch(() => {
      if (this.#enabled?.list === list) this.#enabled = null;
    });
  }
}
