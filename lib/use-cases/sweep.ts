import {
  breachDueAt,
  type Conversation,
  deferOutbox,
  hasUndeliveredEvents,
  lookUpDueAt,
  markAckEnqueued,
  markBreached,
  markLookUpsEnqueued,
  noticeDueAt,
  requestNotice,
  type Slot,
  waitingChannelKey,
  waitingChannelOf,
  waitsForChannel,
} from '#lib/domain/conversation.ts';
import type { NoticeTiming } from '#lib/domain/promise.ts';
import type { AckQueue } from '#lib/ports/ack-queue.ts';
import type { Clock } from '#lib/ports/clock.ts';
import type { ConversationPage, ConversationStore } from '#lib/ports/conversation-store.ts';
import type { Log } from '#lib/ports/logger.ts';
import type { Metrics } from '#lib/ports/metrics.ts';
import { trySave, updateConversation } from './conversation-writes.ts';
import { forEachConcurrently, forEachPage } from './loops.ts';
import { sweepWaiting, type WaitingChannels } from './sweep-waiting.ts';

export type SweepDeps = {
  store: ConversationStore;
  queue: AckQueue;
  clock: Clock;
  log: Log;
  metrics: Metrics;
  /** Delivers a conversation's outbox (events a crash or an outage left undelivered). */
  publish?: (conversation: Conversation) => Promise<Conversation>;
  /** The sweeper's base wait before it retries what failed (the ack grace period). */
  graceMs?: number;
  /** When an unanswered episode gets its late notice (the business's noticeSchedule). */
  notice: NoticeTiming;
  /** Sends the outbound webhook deliveries that are due (first attempts a crash left, retries), for up to `budgetMs`. */
  deliverWebhooks?: (budgetMs: number) => Promise<unknown>;
  /**
   * The senders an ack or notice may wait for (every provider and channel a deployment can
   * switch off, whether or not this one does) and whether each is switched off here. Without
   * it no wait is read: none is released.
   */
  waitingChannels?: WaitingChannels;
  /** Records stored mail whose SNS notification never arrived (recoverMail). */
  recoverMail?: () => Promise<unknown>;
  /**
   * One-off data backfills, a bounded part each run until done, then free: the webhook
   * delivery log's expiry for deliveries stored before it had one; the no-reply-needed list's
   * index entry for conversations stored before stop 25.
   */
  backfill?: () => Promise<unknown>;
};

export type SweepResult = {
  requeued: number;
  notices: number;
  breaches: number;
  /** Due conversations, webhook deliveries or the mail recheck this run failed on. */
  errors: number;
  /** Due conversation items this release cannot read: skipped (and logged by key), never a stop. */
  unreadable: number;
  /** Due conversations looked at (each once a run). */
  due: number;
  /** The run's time ran out with conversations still due: the next run carries on. */
  behind: boolean;
  /** Conversations whose events the event bus did not take this run (deferred, tried again later). */
  undelivered: number;
};

export type SweepOptions = {
  /** Due conversations read at a time, soonest first. */
  pageSize?: number;
  /** No new page is started after this long: the next run carries on. */
  budgetMs?: number;
  /** Conversations finished at once. */
  concurrency?: number;
  /** How long the due webhook deliveries may take, after the conversations. */
  webhookBudgetMs?: number;
};

/**
 * Finishes what a crash or an outage left half done (an ack or notice recorded as pending
 * that never reached the queue, a claim whose worker died) and starts the late notices that
 * came due. Finds them with a Query on the sweep index, never a Scan; queueing twice is
 * harmless (the worker claims).
 *
 * It reads page after page until nothing is due or its time budget is spent, several
 * conversations at a time: promises are rounded to times a person would say, so a weekend's
 * messages come due together on Monday morning, thousands at once. Each page continues after
 * the last, so a conversation still due after its turn (its write failed) waits for the next run.
 */
export async function sweep(deps: SweepDeps, options: SweepOptions = {}): Promise<SweepResult> {
  const { pageSize = 100, budgetMs = 10_000, concurrency = 8, webhookBudgetMs = 5_000 } = options;
  const now = deps.clock.now();
  const result: SweepResult = {
    requeued: 0,
    notices: 0,
    breaches: 0,
    errors: 0,
    unreadable: 0,
    due: 0,
    behind: false,
    undelivered: 0,
  };
  const deadline = performance.now() + budgetMs;
  const sweepPages = (read: (cursor: string | undefined) => Promise<ConversationPage>, fromSweep = false) =>
    forEachPage(
      async (cursor) => {
        const page = await read(cursor);
        for (const { key, fields } of page.unreadable) {
          // Every run meets it again until someone repairs or deletes the item: the key finds it.
          deps.log.error('sweeper skipped a conversation item it cannot read', { key, fields });
        }
        result.unreadable += page.unreadable.length;
        return page;
      },
      async (due) => {
        result.due += due.length;
        await forEachConcurrently(due, concurrency, (conversation) =>
          finish(deps, conversation, now, result, fromSweep),
        );
      },
      deadline,
    );
  let { pages, behind } = await sweepPages((cursor) => deps.store.dueForSweep(now, pageSize, cursor), true);
  if (!behind && deps.waitingChannels) {
    const waiting = await sweepWaiting(deps.waitingChannels, deps, now, pageSize, sweepPages);
    pages += waiting.pages;
    behind = waiting.behind;
  }
  result.behind = behind;
  if (result.undelivered > 0) {
    // Each of these failed right after its write too: downstream tools are not hearing of changes.
    deps.metrics.count('EventsUndelivered', result.undelivered);
  }
  if (behind) {
    // More came due than a run finishes: acks and notices are late, ops should know.
    deps.metrics.count('SweepBacklog');
    deps.log.warn('sweeper ran out of time with conversations still due', { pages, due: result.due });
  }
  if (deps.deliverWebhooks) {
    try {
      await deps.deliverWebhooks(webhookBudgetMs);
    } catch (error) {
      result.errors++;
      deps.log.warn('sweeper could not deliver webhooks', { error: (error as Error).name });
    }
  }
  if (deps.backfill) {
    try {
      await deps.backfill();
    } catch (error) {
      result.errors++;
      deps.log.warn('sweeper could not run its backfill', { error: (error as Error).name });
    }
  }
  // Last: a large mail read from S3 must not hold up the acks above.
  if (deps.recoverMail) {
    try {
      await deps.recoverMail();
    } catch (error) {
      result.errors++;
      deps.log.warn('sweeper could not recheck stored mail', { error: (error as Error).name });
    }
  }
  if (result.errors + result.unreadable > 0) {
    // Each failure is also a warn line; this is what the alarm sees. A run that can finish
    // nothing (SQS refusing every requeue: a lost sqs:SendMessage grant) still returns, so the
    // function's Errors stay 0 and only this says so.
    deps.metrics.count('SweepErrors', result.errors + result.unreadable);
  }
  if (result.requeued > 0 || result.errors > 0 || result.unreadable > 0 || result.undelivered > 0) {
    deps.log.info('sweep finished', { pages, ...result });
  }
  return result;
}

/** One due conversation: deliver its events, record a breach, start a notice, requeue a job. */
async function finish(
  deps: SweepDeps,
  due: Conversation,
  now: Date,
  result: SweepResult,
  fromSweep: boolean,
): Promise<void> {
  let conversation = due;
  try {
    if (hasUndeliveredEvents(conversation) && deps.publish) {
      conversation = await deps.publish(conversation);
      if (hasUndeliveredEvents(conversation)) {
        result.undelivered++;
        conversation =
          (await updateConversation(deps.store, conversation.id, (current) =>
            deferOutbox(current, now, deps.graceMs ?? 60_000),
          )) ?? conversation;
      }
    }
    // Both decided again on each write's own read (markBreached, requestNotice): an agent's
    // reply and a new message since this page was read start an episode not yet due. Counted
    // only when written.
    const breach = breachDueAt(conversation);
    if (breach && Date.parse(breach) <= now.getTime()) {
      let marked = false;
      conversation =
        (await updateConversation(deps.store, conversation.id, (current) => {
          const next = markBreached(current, now);
          marked = next !== current;
          return next;
        })) ?? conversation;
      // The promise passed and nobody answered: counted once per episode, for the alarm.
      if (marked) {
        deps.metrics.count('PromiseBreaches');
        result.breaches++;
      }
    }
    const noticeDue = noticeDueAt(conversation, deps.notice);
    if (noticeDue && Date.parse(noticeDue) <= now.getTime()) {
      let requested = false;
      conversation =
        (await updateConversation(deps.store, conversation.id, (current) => {
          const next = requestNotice(current, now, deps.notice);
          requested = next !== current;
          return next;
        })) ?? conversation;
      if (requested) result.notices++;
    }
    const { provider, channel } = conversation.route;
    const switchedOff = deps.waitingChannels?.switchedOff(waitingChannelKey(provider, channel)) === true;
    for (const slot of ['ack', 'notice'] as const satisfies readonly Slot[]) {
      const job = conversation[slot];
      if (!job || (job.state !== 'pending' && job.state !== 'sending')) continue;
      // Waits for its channel's configuration: nothing to do (no write) until a deploy completes it.
      if (waitsForChannel(job) && switchedOff) continue;
      if (job.state === 'sending' && job.leaseUntil && Date.parse(job.leaseUntil) > now.getTime()) continue;
      await deps.queue.enqueue({ conversationId: conversation.id, episode: job.episode, kind: slot });
      await updateConversation(deps.store, conversation.id, (current) =>
        markAckEnqueued(current, job.episode, now, slot),
      );
      result.requeued++;
    }
    // An ended episode's uncertain ack or notice, replaced before its lookup: its lookup-only
    // job, recorded as queued (one write for all), so that the next runs leave it to the worker.
    const graceMs = deps.graceMs ?? 60_000;
    const owed = (conversation.lookUps ?? []).filter((l) => {
      const due = lookUpDueAt(l, graceMs);
      return due !== null && due <= now.getTime();
    });
    for (const lookUp of owed) {
      await deps.queue.enqueue({
        conversationId: conversation.id,
        episode: lookUp.episode,
        kind: lookUp.slot,
      });
      result.requeued++;
    }
    if (owed.length > 0) {
      await updateConversation(deps.store, conversation.id, (current) =>
        markLookUpsEnqueued(current, owed, now),
      );
    }
    // Waiting for its channel yet due in the sweep index, unwritten this run: a release before
    // session 32 left it there (it queued it every 10 minutes). One write moves it to its
    // channel's waiting key (the store's keys); a write since, by anyone, already did.
    if (fromSweep && waitingChannelOf(conversation) && conversation.version === due.version) {
      await trySave(deps.store, conversation, conversation.version);
    }
  } catch (error) {
    result.errors++;
    deps.log.warn('sweeper could not requeue', {
      conversationId: conversation.id,
      error: (error as Error).name,
    });
  }
}
