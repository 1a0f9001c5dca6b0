// The webhook store: one class over the subscriptions, the deliveries and the log's expiry backfill.

import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type {
  SecretRotation,
  StoredWebhookSubscription,
  WebhookDelivery,
  WebhookSubscription,
} from '#lib/domain/webhook.ts';
import type { DeliveryPage, WebhookStore } from '#lib/ports/webhook-store.ts';
import type { ShardCount } from './dynamodb-shards.ts';
import { DynamoDbWebhookDeliveries } from './dynamodb-webhook-deliveries.ts';
import { DynamoDbWebhookExpiryBackfill } from './dynamodb-webhook-expiry-backfill.ts';
import { DynamoDbWebhookSubscriptions } from './dynamodb-webhook-subscriptions.ts';

/**
 * Webhook subscriptions and deliveries in the single table (see docs/store.md):
 * - subscription  pk WEBHOOK#<id>        sk WEBHOOK     gsi1 WEBHOOKS / <createdAt>#<id>
 * - delivery      pk WHDELIVERY#<id>     sk WHDELIVERY  gsi1 WEBHOOK#<subscriptionId>#DELIVERIES / <createdAt>#<id>
 *                                                       gsi2 WEBHOOK / <nextAttemptAt>#<id> (only while pending)
 * Every listing is a Query, never a Scan; the due index is sparse. A delivery's two keys take
 * every event's writes (three per delivery), so they are sharded by delivery id (dynamodb-shards.ts).
 */
export class DynamoDbWebhookStore implements WebhookStore {
  readonly #subscriptions: DynamoDbWebhookSubscriptions;
  readonly #deliveries: DynamoDbWebhookDeliveries;
  readonly #expiry: DynamoDbWebhookExpiryBackfill;

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
    this.#subscriptions = new DynamoDbWebhookSubscriptions(options);
    this.#deliveries = new DynamoDbWebhookDeliveries(options);
    this.#expiry = new DynamoDbWebhookExpiryBackfill({
      ...options,
      listAll: (query) => this.#subscriptions.listAll(query),
    });
  }

  createSubscription(subscription: StoredWebhookSubscription): Promise<void> {
    return this.#subscriptions.createSubscription(subscription);
  }

  getSubscription(id: string): Promise<StoredWebhookSubscription | null> {
    return this.#subscriptions.getSubscription(id);
  }

  listSubscriptions(query: {
    limit: number;
    cursor?: string | undefined;
  }): Promise<{ items: WebhookSubscription[]; nextCursor: string | null }> {
    return this.#subscriptions.listSubscriptions(query);
  }

  listEnabledSubscriptions(): Promise<StoredWebhookSubscription[]> {
    return this.#subscriptions.listEnabledSubscriptions();
  }

  rotateSecret(id: string, rotation: SecretRotation, current: string): Promise<boolean> {
    return this.#subscriptions.rotateSecret(id, rotation, current);
  }

  enableSubscription(id: string): Promise<boolean> {
    return this.#subscriptions.enableSubscription(id);
  }

  markFailing(id: string, since: Date): Promise<void> {
    return this.#subscriptions.markFailing(id, since);
  }

  disableFailing(id: string, at: Date, cutoff: Date): Promise<boolean> {
    return this.#subscriptions.disableFailing(id, at, cutoff);
  }

  clearFailing(id: string, startedAt: Date): Promise<{ reenabled: boolean }> {
    return this.#subscriptions.clearFailing(id, startedAt);
  }

  disableSubscription(id: string, at: Date, reason: 'deleted' | 'gone' | 'manual'): Promise<boolean> {
    return this.#subscriptions.disableSubscription(id, at, reason);
  }

  pauseFirstAttempts(id: string, until: Date): Promise<void> {
    return this.#subscriptions.pauseFirstAttempts(id, until);
  }

  resumeFirstAttempts(id: string, latest: Date): Promise<void> {
    return this.#subscriptions.resumeFirstAttempts(id, latest);
  }

  holdDeliveries(id: string, until: Date): Promise<void> {
    return this.#subscriptions.holdDeliveries(id, until);
  }

  createDelivery(delivery: WebhookDelivery): Promise<boolean> {
    return this.#deliveries.createDelivery(delivery);
  }

  getDelivery(id: string): Promise<WebhookDelivery | null> {
    return this.#deliveries.getDelivery(id);
  }

  saveDelivery(delivery: WebhookDelivery): Promise<WebhookDelivery | null> {
    return this.#deliveries.saveDelivery(delivery);
  }

  listDeliveries(
    subscriptionId: string,
    query: { limit: number; cursor?: string; since?: string },
  ): Promise<DeliveryPage> {
    return this.#deliveries.listDeliveries(subscriptionId, query);
  }

  dueDeliveries(now: Date, limit: number, cursor?: string): Promise<DeliveryPage> {
    return this.#deliveries.dueDeliveries(now, limit, cursor);
  }

  /** The one-off backfill of the log's expiresAt, run by the sweeper until done (see DynamoDbWebhookExpiryBackfill). */
  backfillDeliveryExpiry(
    now: Date,
    options: { pageSize?: number; pages?: number } = {},
  ): Promise<{ updated: number; done: boolean }> {
    return this.#expiry.backfillDeliveryExpiry(now, options);
  }
}
