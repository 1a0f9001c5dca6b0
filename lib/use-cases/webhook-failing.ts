// An endpoint's failing streak: started by a failed attempt, ended by an accepted one, and the
// subscription disabled once it is FAILING_DISABLE_MS old.

import {
  FAILING_DISABLE_MS,
  type StoredWebhookSubscription,
  type WebhookDelivery,
} from '#lib/domain/webhook.ts';
import type { WebhookDeliveryDeps } from './webhook-delivery-deps.ts';

type Subscriptions = Map<string, StoredWebhookSubscription | null>;

/**
 * Records what an attempt sent at `sentAt` (null: nothing was sent) says of its endpoint's
 * streak. Best effort: a store hiccup here leaves the streak as it was (the next attempt tells
 * again), and never the delivery, which is saved already.
 */
export async function noteAttempt(
  deps: WebhookDeliveryDeps,
  subscriptions: Subscriptions,
  subscription: StoredWebhookSubscription | null,
  saved: WebhookDelivery,
  sentAt: Date | null,
): Promise<void> {
  if (!subscription || sentAt === null || saved.lastStatus === 410) return;
  try {
    if (saved.state === 'delivered') await noteAcceptedAttempt(deps, subscriptions, subscription, sentAt);
    else await noteFailedAttempt(deps, subscriptions, subscription, sentAt);
  } catch (error) {
    deps.log.warn('webhook failing streak not recorded', {
      webhookId: subscription.id,
      error: (error as Error).name,
    });
  }
}

/**
 * After an attempt the endpoint did not accept (no answer, a redirect, any status but a 2xx, but
 * 410 which disables at once), begun at `startedAt`: starts the streak when the subscription as
 * read shows none (one write, the first failure after a success only), or, when the streak shown
 * is FAILING_DISABLE_MS old, disables it as `failing` in one conditional write that a success
 * ending the streak first defeats. Only the write that disabled it logs and counts: a retried
 * run, or another process acting on the same view, finds it disabled and says nothing. In a sweep
 * run, `subscriptions` then shows it disabled: its other due deliveries are given up unsent.
 */
export async function noteFailedAttempt(
  deps: WebhookDeliveryDeps,
  subscriptions: Subscriptions,
  subscription: StoredWebhookSubscription,
  startedAt: Date,
): Promise<void> {
  const { id, failingSince } = subscription;
  if (failingSince === null) {
    await deps.webhooks.markFailing(id, startedAt);
    subscriptions.set(id, { ...subscription, failingSince: startedAt.toISOString() });
    return;
  }
  const now = deps.clock.now();
  const cutoff = new Date(now.getTime() - FAILING_DISABLE_MS);
  if (Date.parse(failingSince) > cutoff.getTime()) return;
  if (!(await deps.webhooks.disableFailing(id, now, cutoff))) {
    // A success ended the streak, or it is disabled already: act on what is stored.
    subscriptions.set(id, await deps.webhooks.getSubscription(id));
    return;
  }
  subscriptions.set(id, { ...subscription, disabledAt: now.toISOString(), disabledReason: 'failing' });
  deps.log.warn('webhook endpoint failing for 5 days; subscription disabled', {
    webhookId: id,
    failingSince,
  });
  deps.metrics?.count('WebhooksDisabled');
}

/**
 * After an attempt begun at `startedAt` that the endpoint accepted: ends the streak the
 * subscription as read shows (nothing to write otherwise, so a healthy endpoint costs nothing).
 * A disabling for failing that landed while this attempt was under way is undone: the success wins.
 */
export async function noteAcceptedAttempt(
  deps: WebhookDeliveryDeps,
  subscriptions: Subscriptions,
  subscription: StoredWebhookSubscription,
  startedAt: Date,
): Promise<void> {
  if (subscription.failingSince === null) return;
  const { reenabled } = await deps.webhooks.clearFailing(subscription.id, startedAt);
  const current = subscriptions.get(subscription.id);
  if (current) subscriptions.set(subscription.id, { ...current, failingSince: null });
  if (reenabled) {
    subscriptions.set(subscription.id, await deps.webhooks.getSubscription(subscription.id));
    deps.log.info('webhook enabled again: a delivery succeeded as it was disabled for failing', {
      webhookId: subscription.id,
    });
  }
}
