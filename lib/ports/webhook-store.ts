import type {
  SecretRotation,
  StoredWebhookSubscription,
  WebhookDelivery,
  WebhookSubscription,
} from '#lib/domain/webhook.ts';
import type { AttemptOutcome } from '#lib/domain/webhook-attempts.ts';

export type DeliveryPage = { items: WebhookDelivery[]; nextCursor: string | null };

/**
 * Outbound webhook subscriptions and their deliveries. Single-item conditional writes only,
 * like the conversation store: a delivery is created once per (subscription, event) and then
 * rewritten whole, conditional on the `version` it was read at.
 */
export interface WebhookStore {
  /** Stores a new subscription; throws if the id exists (ids are random, so it never should). */
  createSubscription(subscription: StoredWebhookSubscription): Promise<void>;
  /** With its secret: for signing only, never for a response. */
  getSubscription(id: string): Promise<StoredWebhookSubscription | null>;
  /**
   * One page of every subscription, disabled ones too, newest first; without secrets. A cursor
   * it did not issue throws InvalidCursorError; only a null `nextCursor` ends the listing.
   */
  listSubscriptions(query: {
    limit: number;
    cursor?: string | undefined;
  }): Promise<{ items: WebhookSubscription[]; nextCursor: string | null }>;
  /** The enabled subscriptions with their secrets: what the sink fans events out to. */
  listEnabledSubscriptions(): Promise<StoredWebhookSubscription[]>;
  /**
   * Replaces the secret with `rotation`'s if it is still `current` and the subscription is
   * enabled; false otherwise (another rotation came first, or it was disabled).
   */
  rotateSecret(id: string, rotation: SecretRotation, current: string): Promise<boolean>;
  /** Disables it (keeping the first time, and reason but for `deleted`); false when there is no such subscription. */
  disableSubscription(id: string, at: Date, reason: 'deleted' | 'gone' | 'manual'): Promise<boolean>;
  /**
   * Enables a disabled subscription again, its failing streak ended; false when it is not
   * disabled, was deleted (that stays), or does not exist.
   */
  enableSubscription(id: string): Promise<boolean>;
  /** Starts its endpoint's failing streak at `since`, unless one is under way. */
  markFailing(id: string, since: Date): Promise<void>;
  /**
   * Disables it as `failing` at `at` if it is enabled and its failing streak began at or before
   * `cutoff`; true only for the write that disabled it (a retry or a second process: false).
   */
  disableFailing(id: string, at: Date, cutoff: Date): Promise<boolean>;
  /**
   * Ends its failing streak after an attempt begun at `startedAt` was accepted (not one a later
   * failure began), and enables it again if that streak disabled it since `startedAt`.
   */
  clearFailing(id: string, startedAt: Date): Promise<{ reenabled: boolean }>;
  /**
   * Leaves the subscription's new deliveries to the sweeper until `until` (its endpoint failed
   * slowly); this process's enabled list shows it at once, others' within their cache time.
   */
  pauseFirstAttempts(id: string, until: Date): Promise<void>;
  /**
   * Gives the subscription first attempts again (a delivery to its endpoint succeeded), unless
   * its pause lasts past `latest`: a slow failure paused it after the successful attempt began.
   */
  resumeFirstAttempts(id: string, latest: Date): Promise<void>;
  /**
   * Sends nothing to the subscription's endpoint before `until` (its Retry-After), unless an
   * earlier answer already holds it longer; this process's enabled list shows it at once.
   */
  holdDeliveries(id: string, until: Date): Promise<void>;
  /** Puts a new delivery; false (and nothing written) when one with its id exists. */
  createDelivery(delivery: WebhookDelivery): Promise<boolean>;
  getDelivery(id: string): Promise<WebhookDelivery | null>;
  /**
   * Writes the delivery with `version + 1` if the stored one still has `version`; false when
   * someone else wrote it first (the caller re-reads or leaves it to them).
   */
  saveDelivery(delivery: WebhookDelivery): Promise<WebhookDelivery | null>;
  /** A subscription's deliveries, newest first (created at or after `since`, when given). */
  listDeliveries(
    subscriptionId: string,
    query: { limit: number; cursor?: string; since?: string },
  ): Promise<DeliveryPage>;
  /**
   * Pending deliveries whose next attempt is due at `now`, earliest first (Queries, never a
   * Scan), a page at a time: the cursor continues after the last one returned.
   */
  dueDeliveries(now: Date, limit: number, cursor?: string): Promise<DeliveryPage>;
}

/** One signed POST of a delivery's body to an endpoint: never throws, never follows a redirect. */
export interface WebhookSender {
  send(request: {
    url: string;
    /** One signature each in `webhook-signature`: the current secret, and a rotated one in its grace. */
    secrets: readonly string[];
    /** `webhook-id`: the event id, the same on every attempt. */
    webhookId: string;
    /** The attempt's time: `webhook-timestamp`, and part of what is signed. */
    timestamp: Date;
    body: string;
    /** Gives up (an `ETIMEDOUT` error) after this long; the sender's default otherwise. */
    timeoutMs?: number;
  }): Promise<AttemptOutcome>;
}
