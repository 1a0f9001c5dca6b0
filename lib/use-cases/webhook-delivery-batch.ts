// A batch of deliveries sent per subscription in order, and the pause of slow endpoints' first attempts.

import type { StoredWebhookSubscription, WebhookDelivery } from '#lib/domain/webhook.ts';
import { endpointFailed, MAX_DELIVERY_ATTEMPTS } from '#lib/domain/webhook-attempts.ts';
import { attemptDelivery, deferDelivery } from './webhook-delivery-attempt.ts';
import {
  ATTEMPT_OVERRUN_MS,
  ATTEMPT_TIMEOUT_MS,
  type DeliveryRunResult,
  FIRST_ATTEMPTS_BUDGET_MS,
  type WebhookDeliveryDeps,
} from './webhook-delivery-deps.ts';
import { noteAttempt } from './webhook-failing.ts';

/**
 * No attempt is started with less than this left of the budget (a write's, or a sweep run's): a
 * shorter limit would fail many a healthy endpoint and spend one of its attempts for nothing.
 */
const MIN_FIRST_ATTEMPT_MS = 1_000;

/**
 * An endpoint whose first attempt failed after this long (a timeout, a slow error) has its first
 * attempts paused for FIRST_ATTEMPTS_PAUSE_MS, on its subscription (every process sees it): its
 * new deliveries are left due for the sweeper, untouched, instead of making every write wait
 * for it again. The next delivery to it that succeeds (the sweeper's, usually) ends the pause.
 * A quick failure (a 503, a refused connection) costs a write no time, so those keep their first
 * attempt and hear new events at once when the endpoint is back.
 */
const SLOW_FAILURE_MS = 1_000;
/** An attempt that ran to within this of its limit timed out; a limit this far under the budget was cut. */
const CUT_TOLERANCE_MS = 100;
const FIRST_ATTEMPTS_PAUSE_MS = 60_000;
/**
 * An endpoint whose refusals of single events (their own 4xx) took this long in all, in a run or
 * a write, is held as failing: its later deliveries there are deferred. Such refusals are meant
 * to be quick; one answering each event slowly would otherwise spend the sweeper's whole budget
 * on its backlog, and the other subscriptions' deliveries on later pages would never be reached.
 */
const SLOW_REFUSALS_MS = 1_000;

/** What one sweep run remembers across its pages. */
export type RunState = {
  /** Subscriptions whose endpoint failed in this run: their later deliveries are deferred. */
  failing: Set<string>;
  /** No delivery is started after this (performance.now()); it stays due for the next run. */
  deadline: number;
  /** Subscriptions whose first-attempt pause this run has ended (or found none to end). */
  resumed: Set<string>;
  /** Until when a failing subscription's endpoint asked us to wait (its Retry-After). */
  waitUntil: Map<string, string>;
  /** How long each subscription's endpoint took, in this run, to refuse events (their own 4xx). */
  refusedMs: Map<string, number>;
  /** What one subscription's attempts may take in a pass over the due pages (its time share). */
  shareMs: number;
  /** How long each subscription's attempts took in this pass. */
  sentMs: Map<string, number>;
  /** Subscriptions that used their share in this pass: their other due deliveries wait, untouched. */
  paused: Set<string>;
};

/** First attempts inside a write: what they may spend. */
export type FirstAttempts = {
  /** No first attempt waits for its endpoint past this (performance.now()): the request's budget. */
  deadline: number;
};

/** Whether the subscription's first attempts are paused now (its endpoint failed slowly a moment ago). */
function firstAttemptsPaused(
  deps: WebhookDeliveryDeps,
  subscription: StoredWebhookSubscription | null,
): boolean {
  const until = subscription?.firstAttemptsPausedUntil;
  return until != null && Date.parse(until) > deps.clock.now().getTime();
}

/** Until when the subscription's endpoint asked us to send nothing (its Retry-After), if that is ahead. */
function held(deps: WebhookDeliveryDeps, subscription: StoredWebhookSubscription | null | undefined) {
  const until = subscription?.retryAfterUntil;
  return until != null && Date.parse(until) > deps.clock.now().getTime() ? until : null;
}

/**
 * Holds everything to the subscription's endpoint until `until`, as its Retry-After asked: in
 * this run, and on the subscription for every process's writes and sweeps. Best effort: without
 * the write, the worst is a new event's first attempt before then, which the endpoint refuses.
 */
async function hold(
  deps: WebhookDeliveryDeps,
  subscriptions: Map<string, StoredWebhookSubscription | null>,
  subscription: StoredWebhookSubscription,
  until: string,
  run: RunState | undefined,
): Promise<void> {
  run?.waitUntil.set(subscription.id, until);
  subscriptions.set(subscription.id, { ...subscription, retryAfterUntil: until });
  try {
    await deps.webhooks.holdDeliveries(subscription.id, new Date(until));
  } catch (error) {
    deps.log.warn('webhook Retry-After not kept on the subscription', {
      webhookId: subscription.id,
      error: (error as Error).name,
    });
  }
}

/**
 * Pauses a subscription's first attempts, or ends a pause set before `attemptStartedAt`, when
 * the attempt that just succeeded began: a pause lasts FIRST_ATTEMPTS_PAUSE_MS from the slow
 * failure that set it, so one lasting longer past that start was set after it, by a failure
 * this success does not answer. Best effort: without the write, the worst is a write that waits
 * for a slow endpoint once more, or new events left to the sweeper.
 */
async function setFirstAttempts(
  deps: WebhookDeliveryDeps,
  subscriptions: Map<string, StoredWebhookSubscription | null>,
  subscription: StoredWebhookSubscription,
  change: { pause: true } | { pause: false; attemptStartedAt: Date },
): Promise<void> {
  const until = change.pause ? new Date(deps.clock.now().getTime() + FIRST_ATTEMPTS_PAUSE_MS) : null;
  // This run (a sweep's later pages) acts on it once; on what it holds now (a streak noted since).
  const current = subscriptions.get(subscription.id);
  if (current)
    subscriptions.set(subscription.id, {
      ...current,
      firstAttemptsPausedUntil: until?.toISOString() ?? null,
    });
  try {
    if (until) await deps.webhooks.pauseFirstAttempts(subscription.id, until);
    else if (!change.pause) {
      const latest = new Date(change.attemptStartedAt.getTime() + FIRST_ATTEMPTS_PAUSE_MS);
      await deps.webhooks.resumeFirstAttempts(subscription.id, latest);
    }
  } catch (error) {
    deps.log.warn('webhook first attempts not paused or resumed', {
      webhookId: subscription.id,
      error: (error as Error).name,
    });
  }
}

/**
 * One subscription's deliveries go in the order their events happened, one at a time (within
 * this batch: a failure's backlog and newer events are not ordered across runs, docs/store.md); the
 * subscriptions are served side by side. After an attempt the endpoint failed (endpointFailed:
 * no answer, a 5xx, 429...; not an event's own 4xx, unless such refusals took SLOW_REFUSALS_MS), the rest of that subscription's deliveries
 * in the run are counted as a failed attempt without being sent: a down endpoint costs one
 * timeout per run, not one per delivery, and its backlog backs off together. A delivery's last
 * attempt is never such a deferral: it is sent, so none fails without having been sent. After a 410 Gone the subscription is null in `subscriptions`, which a sweep run
 * keeps across its pages: its other deliveries are abandoned, never sent. In a sweep run, a
 * subscription whose attempts took its share (`run.shareMs`, accepted or not) is paused for the
 * rest of the pass: its later deliveries are left due untouched, and the run moves on.
 */
export async function deliverAll(
  deps: WebhookDeliveryDeps,
  deliveries: readonly WebhookDelivery[],
  subscriptions: Map<string, StoredWebhookSubscription | null>,
  options: {
    /** A sweep run's state across its pages. */
    run?: RunState;
    /** Or the first attempts inside a write. */
    first?: FirstAttempts;
  },
): Promise<DeliveryRunResult> {
  const { run, first } = options;
  const result: DeliveryRunResult = { delivered: 0, retrying: 0, failed: 0 };
  const bySubscription = Map.groupBy(deliveries, (delivery) => delivery.subscriptionId);
  await Promise.all(
    [...bySubscription].map(async ([subscriptionId, batch]) => {
      let endpointFailing = run?.failing.has(subscriptionId) ?? false;
      let refusedMs = run?.refusedMs.get(subscriptionId) ?? 0;
      let sentMs = run?.sentMs.get(subscriptionId) ?? 0;
      // Until when the endpoint asked us to wait (a Retry-After): nothing is sent to it before.
      let waitUntil = run?.waitUntil.get(subscriptionId) ?? held(deps, subscriptions.get(subscriptionId));
      // Left due as created: the sweeper defers them to then.
      if (first && waitUntil) return;
      if (waitUntil) endpointFailing = true;
      for (const delivery of batch.toSorted(inTheirOrder)) {
        if (run && performance.now() >= run.deadline) return;
        // Its share used: the rest stay due as they are (not tried, no attempt counted), so the
        // other subscriptions' due deliveries on later pages are reached in this run too.
        if (run && !endpointFailing && (run.paused.has(subscriptionId) || sentMs >= run.shareMs)) {
          run.paused.add(subscriptionId);
          return;
        }
        let timeoutMs: number | undefined;
        // At most ATTEMPT_OVERRUN_MS past the run's end (the sweeper's Lambda has room for that
        // much, as it had for the former 5 s limit), so a slow endpoint is not cut mid-answer.
        if (run)
          timeoutMs = Math.min(ATTEMPT_TIMEOUT_MS, run.deadline + ATTEMPT_OVERRUN_MS - performance.now());
        if (first && !endpointFailing) {
          // Left as created, due at once: the sweeper's next run sends them (or defers them
          // with their endpoint's backlog), costing the write no time and no extra call.
          if (firstAttemptsPaused(deps, subscriptions.get(subscriptionId) ?? null)) return;
          timeoutMs = first.deadline - performance.now();
          if (timeoutMs < MIN_FIRST_ATTEMPT_MS) return;
        }
        const startedAt = performance.now();
        try {
          // Read for each delivery: a 410 Gone disables the subscription for the rest of the run.
          const subscription = subscriptions.get(subscriptionId) ?? null;
          let saved: WebhookDelivery | null;
          // A delivery's last attempt is always sent (never failed unsent), unless its endpoint
          // asked us to wait (deferred then without counting).
          const last = delivery.attempts >= MAX_DELIVERY_ATTEMPTS - 1;
          if (endpointFailing && (!last || waitUntil)) saved = await deferDelivery(deps, delivery, waitUntil);
          else {
            const attempted = await attemptDelivery(deps, delivery, subscription, timeoutMs);
            saved = attempted.saved;
            waitUntil = attempted.waitUntil;
            sentMs += performance.now() - startedAt;
            run?.sentMs.set(subscriptionId, sentMs);
            if (waitUntil && subscription) await hold(deps, subscriptions, subscription, waitUntil, run);
            if (saved) await noteAttempt(deps, subscriptions, subscription, saved, attempted.sentAt ?? null);
          }
          if (!saved) continue;
          if (saved.lastStatus === 410) subscriptions.set(subscriptionId, null);
          if (saved.state === 'delivered') {
            result.delivered++;
            // The endpoint is back: every process's writes try it first again. A sweep run ends
            // a pause it did not see too (set by another process after it read the
            // subscription), once per subscription: a conditional write per run that delivers.
            const unseen = run !== undefined && !run.resumed.has(subscriptionId);
            if (subscription && (subscription.firstAttemptsPausedUntil || unseen)) {
              run?.resumed.add(subscriptionId);
              const attemptStartedAt = new Date(saved.lastAttemptAt ?? deps.clock.now());
              await setFirstAttempts(deps, subscriptions, subscription, { pause: false, attemptStartedAt });
            }
          } else if (saved.state === 'failed') result.failed++;
          else {
            result.retrying++;
            const elapsed = performance.now() - startedAt;
            // Not when our own leftover budget cut it short: a healthy endpoint slower than what
            // was left would be skipped for a minute. The next request's full budget tells.
            const cutShort =
              timeoutMs !== undefined &&
              timeoutMs < FIRST_ATTEMPTS_BUDGET_MS - CUT_TOLERANCE_MS &&
              elapsed >= timeoutMs - CUT_TOLERANCE_MS;
            if (first && !endpointFailing && elapsed >= SLOW_FAILURE_MS && !cutShort && subscription) {
              await setFirstAttempts(deps, subscriptions, subscription, { pause: true });
            }
            // An event-specific 4xx holds back nothing else, unless such answers were slow.
            if (!endpointFailing && !endpointFailed(saved)) {
              refusedMs += elapsed;
              run?.refusedMs.set(subscriptionId, refusedMs);
            }
            if (endpointFailing || endpointFailed(saved) || refusedMs >= SLOW_REFUSALS_MS)
              endpointFailing = true;
          }
        } catch (error) {
          // A store hiccup: the delivery stays due and the next sweep tries it again.
          endpointFailing = true;
          deps.log.warn('webhook delivery not attempted', {
            deliveryId: delivery.id,
            error: (error as Error).name,
          });
        }
        if (endpointFailing) run?.failing.add(subscriptionId);
      }
    }),
  );
  return result;
}

/**
 * The order an endpoint's due deliveries go in: as their events happened, and the events of one
 * write (they share their time) by their number in the conversation (`sequence`).
 */
function inTheirOrder(a: WebhookDelivery, b: WebhookDelivery): number {
  return a.occurredAt.localeCompare(b.occurredAt) || (a.sequence ?? 0) - (b.sequence ?? 0);
}
