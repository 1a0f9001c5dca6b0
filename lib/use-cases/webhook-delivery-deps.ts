// What delivering webhooks needs and counts: its deps, the first attempts' budget, a run's result.

import type { Clock } from '#lib/ports/clock.ts';
import type { Log } from '#lib/ports/logger.ts';
import type { Metrics } from '#lib/ports/metrics.ts';
import type { WebhookSender, WebhookStore } from '#lib/ports/webhook-store.ts';

export type WebhookDeliveryDeps = {
  webhooks: WebhookStore;
  sender: WebhookSender;
  clock: Clock;
  log: Log;
  /** Counts WebhooksDisabled (nowhere without). */
  metrics?: Metrics;
  /** [0, 1): the backoff's jitter; tests pin it. */
  random?: () => number;
  /**
   * The first-attempt budget of the request or invocation the publishing write belongs to
   * (lib/runtime opens one per request, ack batch and sweep run); without one, each publish
   * gets a budget of its own.
   */
  firstAttemptBudget?: () => FirstAttemptBudget | undefined;
};

/**
 * What one request or invocation may still spend waiting for webhook first attempts, across
 * all its writes: a Meta batch of several messages is several writes, each publishing events.
 */
export type FirstAttemptBudget = { remainingMs: number };

/**
 * First attempts run inside the write that published the event (a provider's webhook, an
 * agent's call), so they get 3 s of each request in all, however many writes it makes: well
 * inside the HTTP function's 10 s timeout and Twilio's 15 s. One attempt may take all of it;
 * what is left when the budget is spent stays due for the sweeper (within a minute).
 */
export const FIRST_ATTEMPTS_BUDGET_MS = 3_000;

/**
 * How long the sweeper's attempt waits for an endpoint: Standard Webhooks recommends 15 to 30 s,
 * so a receiver that does its work before answering has time to. Never more than
 * ATTEMPT_OVERRUN_MS past the run's end: the sweeper's 15 s for webhooks start after up to 35 s
 * of conversations in a 60 s Lambda, so an attempt started late is given what is left and that.
 */
export const ATTEMPT_TIMEOUT_MS = 15_000;
export const ATTEMPT_OVERRUN_MS = 5_000;

export type DeliveryRunResult = { delivered: number; retrying: number; failed: number };
