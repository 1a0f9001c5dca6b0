// Outbound webhooks' entry points: the sink that records and first tries them, the sweeper's run.

import type { DomainEvent } from '#lib/domain/events.ts';
import {
  hears,
  newDelivery,
  type StoredWebhookSubscription,
  type WebhookDelivery,
} from '#lib/domain/webhook.ts';
import type { EventSink } from '#lib/ports/event-sink.ts';
import { forEachPage } from './loops.ts';
import { deliverAll, type RunState } from './webhook-delivery-batch.ts';
import {
  type DeliveryRunResult,
  FIRST_ATTEMPTS_BUDGET_MS,
  type WebhookDeliveryDeps,
} from './webhook-delivery-deps.ts';

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
 * What share of a run's budget one subscription's attempts may take in a pass over the due pages.
 * One endpoint taking each delivery slowly (accepting it after seconds) would otherwise spend the
 * whole budget on its backlog, a page waiting for all of it, and the other subscriptions' due
 * deliveries on later pages would wait until that backlog drained.
 */
const SHARE_OF_BUDGET = 1 / 5;

/** How long a page of due deliveries waits for its slowest endpoint before the next is read. */
const PAGE_WAIT_MS = 1_000;
/** At most this many batches are queued unwaited behind their endpoints' in a run (bounds its reads ahead). */
const MAX_QUEUED_PAGES = 20;

/** Resolves when `work` settles or after `ms`, whichever comes first (`work` carries on). */
async function settledOr(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const waited = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  await Promise.race([work, waited]);
  clearTimeout(timer);
}

/**
 * Sends the deliveries whose next attempt is due (found with Queries on the sparse due index),
 * page after page until none is due or `budgetMs` has passed: after an endpoint's outage its
 * backlog comes due at the pace it was deferred, far more than one page a minute. An endpoint
 * that fails once is not tried again in the same run (its later deliveries are deferred). One
 * whose attempts took its share of the budget is paused for the rest of the pass (its other
 * deliveries stay due, untouched); when the pages end with time left, a new pass from the first
 * page gives each paused one a new share, so a lone slow endpoint still has the whole budget.
 */
export async function deliverDueWebhooks(
  deps: WebhookDeliveryDeps,
  options: { pageSize?: number; budgetMs?: number } = {},
): Promise<DeliveryRunResult> {
  const { pageSize = 100, budgetMs = 10_000 } = options;
  const now = deps.clock.now();
  const deadline = performance.now() + budgetMs;
  const subscriptions = new Map<string, StoredWebhookSubscription | null>();
  const run: RunState = {
    failing: new Set(),
    deadline,
    resumed: new Set(),
    waitUntil: new Map(),
    refusedMs: new Map(),
    shareMs: budgetMs * SHARE_OF_BUDGET,
    sentMs: new Map(),
    paused: new Set(),
  };
  const result: DeliveryRunResult = { delivered: 0, retrying: 0, failed: 0 };
  const due = new Set<string>();
  // Each subscription's batches, page after page, one after another (its events stay in order).
  const chains = new Map<string, Promise<void>>();
  // Subscriptions with a batch under way, and how many batches were queued behind one unwaited.
  const busy = new Set<string>();
  let queuedPages = 0;
  const send = (subscriptionId: string, batch: WebhookDelivery[]) => {
    busy.add(subscriptionId);
    const chain = (chains.get(subscriptionId) ?? Promise.resolve()).then(async () => {
      try {
        const sent = await deliverAll(deps, batch, subscriptions, { run });
        result.delivered += sent.delivered;
        result.retrying += sent.retrying;
        result.failed += sent.failed;
      } catch (error) {
        deps.log.warn('webhook deliveries not attempted', {
          webhookId: subscriptionId,
          error: (error as Error).name,
        });
      }
    });
    chains.set(subscriptionId, chain);
    void chain.then(() => {
      if (chains.get(subscriptionId) === chain) busy.delete(subscriptionId);
    });
    return chain;
  };
  do {
    run.paused.clear();
    run.sentMs.clear();
    // Its attempts end by the deadline and ATTEMPT_OVERRUN_MS; the run waits for them, also when
    // a page cannot be read (it fails then, once they are recorded): past the handler's return
    // a Lambda is frozen mid-attempt, its outcome unrecorded.
    await forEachPage(
      (cursor) => deps.webhooks.dueDeliveries(now, pageSize, cursor),
      async (deliveries) => {
        for (const delivery of deliveries) due.add(delivery.id);
        for (const id of new Set(deliveries.map((delivery) => delivery.subscriptionId))) {
          if (!subscriptions.has(id)) subscriptions.set(id, await deps.webhooks.getSubscription(id));
        }
        // The next page is read once this one's batches are sent, or after PAGE_WAIT_MS; a batch
        // queued behind its endpoint's unfinished one is not waited for (unless too many are):
        // an endpoint that hangs holds up its own later deliveries, never the other ones'.
        const waited: Promise<void>[] = [];
        for (const [id, batch] of Map.groupBy(deliveries, (delivery) => delivery.subscriptionId)) {
          const queued = busy.has(id);
          const chain = send(id, batch);
          if (!queued || busy.size === 0 || queuedPages > MAX_QUEUED_PAGES) waited.push(chain);
          else queuedPages++;
        }
        await settledOr(Promise.all(waited), PAGE_WAIT_MS);
      },
      deadline,
    ).finally(() => Promise.all(chains.values()));
  } while (run.paused.size > 0 && performance.now() < deadline);
  if (due.size > 0) deps.log.info('webhook deliveries swept', { due: due.size, ...result });
  return result;
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
