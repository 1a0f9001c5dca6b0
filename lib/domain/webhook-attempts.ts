import { newId, stableId } from './ids.ts';
import type { WebhookDelivery } from './webhook.ts';

// A delivery's attempts to a subscriber's endpoint: the retry schedule, a leased attempt and its
// outcome, giving up, and a replay of a past delivery.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/**
 * The wait after each failed attempt: 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 3 h, then 4 h
 * five times. With up to +25 % jitter on each, the last of the 13 attempts falls between about
 * 26.7 h and 33.4 h after the first, so an endpoint may be down for a whole day.
 */
export const RETRY_DELAYS_MS: readonly number[] = [
  30_000,
  2 * MINUTE,
  10 * MINUTE,
  30 * MINUTE,
  HOUR,
  2 * HOUR,
  3 * HOUR,
  4 * HOUR,
  4 * HOUR,
  4 * HOUR,
  4 * HOUR,
  4 * HOUR,
];
export const MAX_DELIVERY_ATTEMPTS = RETRY_DELAYS_MS.length + 1;
const JITTER = 0.25;

/**
 * How long to wait after the `attempts`-th failed attempt, with jitter (so endpoints coming
 * back from an outage are not hit by every retry at once); null once the attempts are spent.
 * `random` is in [0, 1).
 */
export function retryDelayMs(attempts: number, random: number): number | null {
  const base = RETRY_DELAYS_MS[attempts - 1];
  if (base === undefined) return null;
  return Math.round(base * (1 + JITTER * random));
}

/**
 * What one attempt came to, as the sender saw it. `retryAfterMs`: how long a failed response's
 * Retry-After asked us to wait (a 429 or 503, usually), when it gave a usable one.
 */
export type AttemptOutcome =
  | { kind: 'response'; status: number; retryAfterMs?: number }
  | { kind: 'error'; error: string };

/** The longest wait a Retry-After gets: the schedule's longest step, so the retries still span a day. */
export const MAX_RETRY_AFTER_MS = 4 * HOUR;

/**
 * When a delivery whose attempt failed at `now` may be tried next: its backoff (`scheduled`),
 * or later when the endpoint's Retry-After asked for more (Standard Webhooks: take it into
 * account), up to MAX_RETRY_AFTER_MS.
 */
export function notBefore(
  scheduled: string | null,
  now: Date,
  retryAfterMs: number | undefined,
): string | null {
  if (scheduled === null || retryAfterMs === undefined) return scheduled;
  const asked = new Date(now.getTime() + Math.min(retryAfterMs, MAX_RETRY_AFTER_MS)).toISOString();
  return asked > scheduled ? asked : scheduled;
}

/**
 * Whether a failed attempt says the endpoint itself is failing (so the rest of its deliveries in
 * the run wait): no answer (a timeout, a refused connection), a redirect, 408, 429 or a 5xx.
 * Any other 4xx is the endpoint's verdict on that one event: its other events are still sent
 * (Standard Webhooks retries each message on its own schedule), and each is answered quickly.
 */
export function endpointFailed(delivery: Pick<WebhookDelivery, 'lastStatus'>): boolean {
  const status = delivery.lastStatus;
  if (status === null || status < 400 || status >= 500) return true;
  return status === 408 || status === 429;
}

/** How long a started attempt may take before the sweeper may start another. */
export const ATTEMPT_LEASE_MS = 60_000;

/**
 * Marks the start of an attempt (before anything is sent): one more attempt, and the next one
 * due after the backoff, so if this one never reports back the sweeper simply retries.
 */
export function startAttempt(delivery: WebhookDelivery, now: Date, random: number): WebhookDelivery {
  const attempts = delivery.attempts + 1;
  const wait = retryDelayMs(attempts, random) ?? ATTEMPT_LEASE_MS;
  return {
    ...delivery,
    attempts,
    lastAttemptAt: now.toISOString(),
    nextAttemptAt: new Date(now.getTime() + wait).toISOString(),
  };
}

/** Applies an attempt's outcome: 2xx delivered; 410 and spent attempts failed; else retry as scheduled. */
export function finishAttempt(
  delivery: WebhookDelivery,
  outcome: AttemptOutcome,
  now: Date,
): WebhookDelivery {
  const status = outcome.kind === 'response' ? outcome.status : null;
  const error = outcome.kind === 'error' ? outcome.error : null;
  const recorded = { ...delivery, lastStatus: status, lastError: error };
  if (status !== null && status >= 200 && status < 300) {
    return { ...recorded, state: 'delivered', nextAttemptAt: null, deliveredAt: now.toISOString() };
  }
  if (status === 410 || delivery.attempts >= MAX_DELIVERY_ATTEMPTS) {
    return { ...recorded, state: 'failed', nextAttemptAt: null };
  }
  const retryAfterMs = outcome.kind === 'response' ? outcome.retryAfterMs : undefined;
  return { ...recorded, nextAttemptAt: notBefore(delivery.nextAttemptAt, now, retryAfterMs) };
}

/** Gives up on a delivery without sending (its subscription is disabled, or its attempts are spent). */
export function abandonDelivery(delivery: WebhookDelivery, reason: string): WebhookDelivery {
  return { ...delivery, state: 'failed', nextAttemptAt: null, lastError: reason };
}

/** A fresh id for one replay request: its deliveries are new items, with the same webhook-ids. */
export function newReplayId(now: Date): string {
  return newId('rpl', now);
}

/** The same event sent again: a new delivery (its own attempts) with the same body and webhook-id. */
export function replayDelivery(original: WebhookDelivery, replayId: string, now: Date): WebhookDelivery {
  // A new delivery of the same event, not the original's item: what a newer release stored on
  // the original (the stored schema is loose) is about its attempts, and stays with it.
  const { subscriptionId, eventId, eventType, occurredAt, sequence, body } = original;
  return {
    subscriptionId,
    eventId,
    eventType,
    occurredAt,
    ...(sequence === undefined ? {} : { sequence }),
    body,
    id: stableId('whd', `${original.subscriptionId}:${original.eventId}:${replayId}`),
    replayId,
    state: 'pending',
    attempts: 0,
    lastStatus: null,
    lastError: null,
    lastAttemptAt: null,
    nextAttemptAt: now.toISOString(),
    deliveredAt: null,
    createdAt: now.toISOString(),
    version: 0,
  };
}
