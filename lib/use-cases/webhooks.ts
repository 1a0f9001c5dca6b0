import {
  issueWebhook,
  MAX_ENABLED_WEBHOOKS,
  nextRotationAt,
  rotateSecret,
  type StoredWebhookSubscription,
  type WebhookDelivery,
  type WebhookEvents,
  type WebhookSubscription,
} from '#lib/domain/webhook.ts';
import { newReplayId, replayDelivery } from '#lib/domain/webhook-attempts.ts';
import type { Clock } from '#lib/ports/clock.ts';
import type { Log } from '#lib/ports/logger.ts';
import type { WebhookStore } from '#lib/ports/webhook-store.ts';

export type WebhookAdminDeps = { webhooks: WebhookStore; clock: Clock; log: Log };

/** At most this many events per replay request; an older `since` is refused (ask for less). */
export const MAX_REPLAYED_EVENTS = 1_000;
const PAGE = 100;
const PARALLEL_WRITES = 25;

/**
 * Stores a new subscription; the caller shows its secret once. Null when MAX_ENABLED_WEBHOOKS
 * are enabled already (counted from this process's enabled list, at most its cache time old:
 * instances creating at once may pass the cap by a few, which every listing still reads whole).
 */
export async function createWebhook(
  deps: WebhookAdminDeps,
  input: { url: string; events: WebhookEvents; description: string | null },
  by: string,
): Promise<StoredWebhookSubscription | null> {
  if ((await deps.webhooks.listEnabledSubscriptions()).length >= MAX_ENABLED_WEBHOOKS) return null;
  const subscription = issueWebhook(input, deps.clock.now());
  await deps.webhooks.createSubscription(subscription);
  // The host only: a URL's path or query may carry the receiver's own token.
  deps.log.info('webhook created', {
    webhookId: subscription.id,
    host: new URL(subscription.url).host,
    events: subscription.events,
    by,
  });
  return subscription;
}

export type RotateResult =
  | { kind: 'rotated'; id: string; secret: string; previousSecretExpiresAt: string | null }
  | { kind: 'not-found' }
  | { kind: 'disabled' }
  /** Rotated less than SECRET_ROTATION_GAP_MS ago (a retry?): nothing changed until `nextAt`. */
  | { kind: 'too-soon'; nextAt: string }
  /** Another rotation replaced the same secret first: its answer holds the current secret. */
  | { kind: 'conflict' };

/**
 * Gives the subscription a new secret; the one it replaces keeps signing beside it for
 * `graceHours`, so the receiver switches without missing a delivery. The subscription, its
 * delivery log and its pending deliveries stay as they are. One conditional write on the
 * current secret: of two rotations at once, one wins and the other is told.
 */
export async function rotateWebhookSecret(
  deps: WebhookAdminDeps,
  id: string,
  graceHours: number,
  by: string,
): Promise<RotateResult> {
  const subscription = await deps.webhooks.getSubscription(id);
  if (!subscription) return { kind: 'not-found' };
  if (subscription.disabledAt !== null) return { kind: 'disabled' };
  // Race-free: the write below is conditional on the secret read with this time.
  const nextAt = nextRotationAt(subscription, deps.clock.now(), graceHours);
  if (nextAt) return { kind: 'too-soon', nextAt };
  const rotation = rotateSecret(subscription, deps.clock.now(), graceHours);
  if (!(await deps.webhooks.rotateSecret(id, rotation, subscription.secret))) {
    const now = await deps.webhooks.getSubscription(id);
    return now && now.disabledAt === null ? { kind: 'conflict' } : { kind: 'disabled' };
  }
  deps.log.info('webhook secret rotated', {
    webhookId: id,
    previousSecretExpiresAt: rotation.previousSecretExpiresAt,
    by,
  });
  return {
    kind: 'rotated',
    id,
    secret: rotation.secret,
    previousSecretExpiresAt: rotation.previousSecretExpiresAt,
  };
}

export type EnableResult =
  | { kind: 'done'; subscription: WebhookSubscription }
  | { kind: 'not-found' }
  /** Deleted: that stays (create a new subscription). */
  | { kind: 'deleted' }
  /** MAX_ENABLED_WEBHOOKS are enabled already. */
  | { kind: 'too-many' };

/**
 * PATCH `enabled`: false disables it as `manual` (one disabled already keeps its time and
 * reason), true enables a disabled one again with its failing streak ended (its 5 days start
 * again), within MAX_ENABLED_WEBHOOKS as creation is. Both are idempotent: the answer is the
 * subscription as it is then. Its deliveries given up while it was disabled stay failed in the
 * log; a replay sends them again.
 */
export async function setWebhookEnabled(
  deps: WebhookAdminDeps,
  id: string,
  enabled: boolean,
  by: string,
): Promise<EnableResult> {
  const subscription = await deps.webhooks.getSubscription(id);
  if (!subscription) return { kind: 'not-found' };
  if (!enabled) {
    if (subscription.disabledAt === null) {
      await deps.webhooks.disableSubscription(id, deps.clock.now(), 'manual');
      deps.log.info('webhook disabled', { webhookId: id, reason: 'manual', by });
    }
  } else if (subscription.disabledAt !== null) {
    if (subscription.disabledReason === 'deleted') return { kind: 'deleted' };
    if ((await deps.webhooks.listEnabledSubscriptions()).length >= MAX_ENABLED_WEBHOOKS)
      return { kind: 'too-many' };
    if (await deps.webhooks.enableSubscription(id)) {
      deps.log.info('webhook enabled', { webhookId: id, was: subscription.disabledReason, by });
    }
  }
  // As stored now: another request's change meanwhile included (a DELETE stays).
  const now = await deps.webhooks.getSubscription(id);
  if (!now) return { kind: 'not-found' };
  if (enabled && now.disabledReason === 'deleted') return { kind: 'deleted' };
  return { kind: 'done', subscription: now };
}

export type ReplayResult =
  | { kind: 'replayed'; replayId: string; deliveries: number }
  | { kind: 'not-found' }
  | { kind: 'disabled' }
  | { kind: 'too-many'; limit: number };

/**
 * Sends every event the subscription was given since `since` again, as new deliveries (their
 * own attempts and log entries) with the same webhook-id, so a receiver that kept its ids drops
 * what it already had. They are recorded due now; the sweeper sends them.
 */
export async function replayWebhook(
  deps: WebhookAdminDeps,
  subscriptionId: string,
  since: Date,
): Promise<ReplayResult> {
  const subscription = await deps.webhooks.getSubscription(subscriptionId);
  if (!subscription) return { kind: 'not-found' };
  if (subscription.disabledAt !== null) return { kind: 'disabled' };
  const originals = new Map<string, WebhookDelivery>();
  let cursor: string | undefined;
  do {
    // A delivery is created after its event happened, so this covers every event since then.
    const page = await deps.webhooks.listDeliveries(subscriptionId, {
      limit: PAGE,
      since: since.toISOString(),
      ...(cursor ? { cursor } : {}),
    });
    for (const delivery of page.items) {
      if (Date.parse(delivery.occurredAt) < since.getTime()) continue;
      // One copy per event: its original delivery, or an earlier replay's copy when the original
      // has left the log (each expires 30 days after it settled, a later copy later).
      if (delivery.replayId === null || !originals.has(delivery.eventId)) {
        originals.set(delivery.eventId, delivery);
      }
    }
    if (originals.size > MAX_REPLAYED_EVENTS) return { kind: 'too-many', limit: MAX_REPLAYED_EVENTS };
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  const now = deps.clock.now();
  const replayId = newReplayId(now);
  const copies = [...originals.values()].map((original) => replayDelivery(original, replayId, now));
  for (let i = 0; i < copies.length; i += PARALLEL_WRITES) {
    await Promise.all(copies.slice(i, i + PARALLEL_WRITES).map((copy) => deps.webhooks.createDelivery(copy)));
  }
  deps.log.info('webhook replay recorded', {
    webhookId: subscriptionId,
    replayId,
    deliveries: copies.length,
  });
  return { kind: 'replayed', replayId, deliveries: copies.length };
}
