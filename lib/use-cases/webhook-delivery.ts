import type { DomainEvent } from '#lib/domain/events.ts';
import {
  hears,
  newDelivery,
  type StoredWebhookSubscription,
  signingSecrets,
  type WebhookDelivery,
} from '#lib/domain/webhook.ts';
import {
  abandonDelivery,
  finishAttempt,
  MAX_DELIVERY_ATTEMPTS,
  startAttempt,
} from '#lib/domain/webhook-attempts.ts';
import type { Clock } from '#lib/ports/clock.ts';
import type { EventSink } from '#lib/ports/event-sink.ts';
import type { Log } from '#lib/ports/logger.ts';
import type { WebhookSender, WebhookStore } from '#lib/ports/webhook-store.ts';
import { forEachPage } from './loops.ts';

export type WebhookDeliveryDeps = {
  webhooks: WebhookStore;
  sender: WebhookSender;
  clock: Clock;
  log: Log;
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
 * what is left when the budget is spent stays due for the sweeper (within a minute). The
 * sweeper's retries use the sender's default (5 s).
 */
export const FIRST_ATTEMPTS_BUDGET_MS = 3_000;

/**
 * No first attempt is started with less than this left of the budget: a shorter limit would
 * fail many a healthy endpoint and spend one of its attempts for nothing.
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

export type DeliveryRunResult = { delivered: number; retrying: number; failed: number };

/**
 * The EventSink for outbound webhooks. publish() records one delivery per event and matching
 * enabled subscription (a conditional put, so a republished outbox records nothing twice) and
 * succeeds once they are recorded: the conversation's outbox is cleared then, whatever the
 * endpoints answer. Each new delivery is then tried once while the request's first-attempt
 * budget lasts and its endpoint's first attempts are not paused; the sweeper sends the rest.
 */
export function webhookSink(deps: WebhookDeliveryDeps): EventSink {
  return {
    async publish(events: readonly DomainEvent[]) {
      if (events.length === 0) return;
      const subscriptions = await deps.webhooks.listEnabledSubscriptions();
      if (subscriptions.length === 0) return;
      const now = deps.clock.now();
      const wanted = events.flatMap((event) =>
        subscriptions
          .filter((subscription) => hears(subscription, event.type))
          .map((s) => newDelivery(s.id, event, now)),
      );
      const created = await Promise.all(wanted.map((delivery) => deps.webhooks.createDelivery(delivery)));
      const fresh = wanted.filter((_, i) => created[i]);
      if (fresh.length === 0) return;
      const budget = deps.firstAttemptBudget?.() ?? { remainingMs: FIRST_ATTEMPTS_BUDGET_MS };
      const startedAt = performance.now();
      await deliverAll(deps, fresh, new Map(subscriptions.map((s) => [s.id, s])), {
        first: { deadline: startedAt + budget.remainingMs },
      });
      // Attempts of writes running side by side are counted twice: the budget only runs out sooner.
      budget.remainingMs -= performance.now() - startedAt;
    },
  };
}

/**
 * Sends the deliveries whose next attempt is due (found with Queries on the sparse due index),
 * page after page until none is due or `budgetMs` has passed: after an endpoint's outage its
 * backlog comes due at the pace it was deferred, far more than one page a minute. An endpoint
 * that fails once is not tried again in the same run (its later deliveries are deferred).
 */
export async function deliverDueWebhooks(
  deps: WebhookDeliveryDeps,
  options: { pageSize?: number; budgetMs?: number } = {},
): Promise<DeliveryRunResult> {
  const { pageSize = 100, budgetMs = 10_000 } = options;
  const now = deps.clock.now();
  const deadline = performance.now() + budgetMs;
  const subscriptions = new Map<string, StoredWebhookSubscription | null>();
  const run: RunState = { failing: new Set(), deadline, resumed: new Set() };
  const result: DeliveryRunResult = { delivered: 0, retrying: 0, failed: 0 };
  let due = 0;
  await forEachPage(
    (cursor) => deps.webhooks.dueDeliveries(now, pageSize, cursor),
    async (deliveries) => {
      due += deliveries.length;
      for (const id of new Set(deliveries.map((delivery) => delivery.subscriptionId))) {
        if (!subscriptions.has(id)) subscriptions.set(id, await deps.webhooks.getSubscription(id));
      }
      const pageResult = await deliverAll(deps, deliveries, subscriptions, { run });
      result.delivered += pageResult.delivered;
      result.retrying += pageResult.retrying;
      result.failed += pageResult.failed;
    },
    deadline,
  );
  if (due > 0) deps.log.info('webhook deliveries swept', { due, ...result });
  return result;
}

/** What one sweep run remembers across its pages. */
type RunState = {
  /** Subscriptions whose endpoint failed in this run: their later deliveries are deferred. */
  failing: Set<string>;
  /** No delivery is started after this (performance.now()); it stays due for the next run. */
  deadline: number;
  /** Subscriptions whose first-attempt pause this run has ended (or found none to end). */
  resumed: Set<string>;
};

/** First attempts inside a write: what they may spend. */
type FirstAttempts = {
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
  // This run (a sweep's later pages) acts on it once.
  subscriptions.set(subscription.id, {
    ...subscription,
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
 * subscriptions are served side by side. After a failed attempt, the rest of that
 * subscription's deliveries in the run are counted as a failed attempt without being sent: a
 * down endpoint costs one timeout per run, not one per delivery, and its backlog backs off
 * together. After a 410 Gone the subscription is null in `subscriptions`, which a sweep run
 * keeps across its pages: its other deliveries are abandoned, never sent.
 */
async function deliverAll(
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
      for (const delivery of batch.toSorted((a, b) => a.occurredAt.localeCompare(b.occurredAt))) {
        if (run && performance.now() >= run.deadline) return;
        let timeoutMs: number | undefined;
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
          const saved = endpointFailing
            ? await deferDelivery(deps, delivery)
            : await attemptDelivery(deps, delivery, subscription, timeoutMs);
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
): Promise<WebhookDelivery | null> {
  if (delivery.state !== 'pending') return null;
  if (!subscription || subscription.disabledAt !== null) {
    return deps.webhooks.saveDelivery(abandonDelivery(delivery, 'subscription disabled'));
  }
  if (delivery.attempts >= MAX_DELIVERY_ATTEMPTS) {
    // The last attempt started but never recorded its outcome (a crash): give up as scheduled.
    return deps.webhooks.saveDelivery(abandonDelivery(delivery, delivery.lastError ?? 'no outcome recorded'));
  }
  const startedAt = deps.clock.now();
  const claimed = await deps.webhooks.saveDelivery(startAttempt(delivery, startedAt, random(deps)));
  if (!claimed) return null;
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
  return deps.webhooks.saveDelivery(finished);
}

async function deferDelivery(deps: WebhookDeliveryDeps, delivery: WebhookDelivery) {
  if (delivery.state !== 'pending' || delivery.attempts >= MAX_DELIVERY_ATTEMPTS) return null;
  const started = startAttempt(delivery, deps.clock.now(), random(deps));
  const outcome = { kind: 'error', error: 'not sent: the endpoint failed an earlier delivery' } as const;
  return deps.webhooks.saveDelivery(finishAttempt(started, outcome, deps.clock.now()));
}

function random(deps: WebhookDeliveryDeps): number {
  return (deps.random ?? Math.random)();
}

/**
 * Several sinks as one: each gets every event; publish() fails if any sink failed (after all
 * were tried), so the outbox is kept and republished to all. Sinks take duplicates by id.
 */
export function fanOut(...sinks: readonly EventSink[]): EventSink {
  return {
    async publish(events) {
      const results = await Promise.allSettled(sinks.map((sink) => sink.publish(events)));
      const failure = results.find((result) => result.status === 'rejected');
      if (failure) throw failure.reason;
    },
  };
}
