// One delivery's attempt (claimed, sent, its outcome recorded), or its deferral unsent.

import { type StoredWebhookSubscription, signingSecrets, type WebhookDelivery } from '#lib/domain/webhook.ts';
import {
  abandonDelivery,
  finishAttempt,
  MAX_DELIVERY_ATTEMPTS,
  notBefore,
  startAttempt,
} from '#lib/domain/webhook-attempts.ts';
import type { WebhookDeliveryDeps } from './webhook-delivery-deps.ts';

/**
 * What an attempt saved (null when another run claimed it first), and until when the endpoint
 * asked us to wait (its Retry-After; null when it did not): what is deferred behind it waits too.
 */
export type Attempted = {
  saved: WebhookDelivery | null;
  waitUntil: string | null;
  /** When the attempt sent it; null when nothing was sent. */
  sentAt?: Date;
};

/**
 * One attempt: claimed first (the attempt count and the next due time written before sending,
 * conditional on the version read, so two sweepers never send the same attempt and a crash
 * mid-send is retried on schedule), then sent, then its outcome recorded. Null when another
 * run claimed it first.
 */
export async function attemptDelivery(
  deps: WebhookDeliveryDeps,
  delivery: WebhookDelivery,
  subscription: StoredWebhookSubscription | null,
  timeoutMs?: number,
): Promise<Attempted> {
  const unsent = async (saving: Promise<WebhookDelivery | null>) => ({
    saved: await saving,
    waitUntil: null,
  });
  if (delivery.state !== 'pending') return { saved: null, waitUntil: null };
  if (!subscription || subscription.disabledAt !== null) {
    return unsent(deps.webhooks.saveDelivery(abandonDelivery(delivery, 'subscription disabled')));
  }
  if (delivery.attempts >= MAX_DELIVERY_ATTEMPTS) {
    // The last attempt started but never recorded its outcome (a crash): give up as scheduled.
    return unsent(
      deps.webhooks.saveDelivery(abandonDelivery(delivery, delivery.lastError ?? 'no outcome recorded')),
    );
  }
  const startedAt = deps.clock.now();
  const claimed = await deps.webhooks.saveDelivery(startAttempt(delivery, startedAt, random(deps)));
  if (!claimed) return { saved: null, waitUntil: null };
  const outcome = await deps.sender.send({
    url: subscription.url,
    secrets: signingSecrets(subscription, startedAt),
    webhookId: delivery.eventId,
    timestamp: startedAt,
    body: delivery.body,
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  });
  const finished = finishAttempt(claimed, outcome, deps.clock.now());
  const fields = {
    webhookId: subscription.id,
    deliveryId: delivery.id,
    eventId: delivery.eventId,
    attempt: finished.attempts,
    status: finished.lastStatus,
    error: finished.lastError,
  };
  if (outcome.kind === 'response' && outcome.status === 410) {
    // 410 Gone: the endpoint asks us to stop. Nothing more is sent to this subscription.
    await deps.webhooks.disableSubscription(subscription.id, deps.clock.now(), 'gone');
    deps.log.warn('webhook endpoint gone; subscription disabled', fields);
  } else if (finished.state === 'failed') {
    deps.log.warn('webhook delivery failed for good', fields);
  } else if (finished.state === 'pending') {
    deps.log.info('webhook delivery will be retried', { ...fields, nextAttemptAt: finished.nextAttemptAt });
  }
  const retryAfterMs = outcome.kind === 'response' ? outcome.retryAfterMs : undefined;
  const waitUntil =
    finished.state === 'pending' && retryAfterMs !== undefined ? finished.nextAttemptAt : null;
  return { saved: await deps.webhooks.saveDelivery(finished), waitUntil, sentAt: startedAt };
}

/**
 * Counts a failed attempt without sending (its endpoint failed an earlier delivery in this
 * run); not tried again before `waitUntil` when that endpoint's Retry-After asked for it. Never
 * the last attempt: that one only waits for `waitUntil`, uncounted (nothing without one).
 */
export async function deferDelivery(
  deps: WebhookDeliveryDeps,
  delivery: WebhookDelivery,
  waitUntil: string | null = null,
) {
  if (delivery.state !== 'pending' || delivery.attempts >= MAX_DELIVERY_ATTEMPTS) return null;
  const now = deps.clock.now();
  if (delivery.attempts === MAX_DELIVERY_ATTEMPTS - 1) {
    // Its last attempt is kept for a send: it waits as the endpoint asked, uncounted.
    if (waitUntil === null) return null;
    const next = waitUntil > (delivery.nextAttemptAt ?? '') ? waitUntil : delivery.nextAttemptAt;
    return deps.webhooks.saveDelivery({ ...delivery, nextAttemptAt: next });
  }
  const started = startAttempt(delivery, now, random(deps));
  const outcome = { kind: 'error', error: 'not sent: the endpoint failed an earlier delivery' } as const;
  const finished = finishAttempt(started, outcome, now);
  const waitMs = waitUntil === null ? undefined : Date.parse(waitUntil) - now.getTime();
  return deps.webhooks.saveDelivery({
    ...finished,
    nextAttemptAt: notBefore(finished.nextAttemptAt, now, waitMs),
  });
}

function random(deps: WebhookDeliveryDeps): number {
  return (deps.random ?? Math.random)();
}
