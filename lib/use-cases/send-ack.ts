import type { BusinessConfig } from '#lib/domain/business-config.ts';
import {
  ackMessageId,
  ackNoLongerNeeded,
  ackRetryAt,
  automaticChannelOf,
  type Conversation,
  claimAck,
  deadLetteredAt,
  isRedrive,
  owingReplacedTry,
  type Slot,
  settleAck,
  stateNewPromise,
  stateSigner,
} from '#lib/domain/conversation.ts';
import { linkedAckVerdict } from '#lib/domain/linked-ack.ts';
import { computePromise, type ReplyPromise } from '#lib/domain/promise.ts';
import { signedNow } from '#lib/domain/signer.ts';
import { composeAck, composeNotice } from '#lib/domain/texts/index.ts';
import type { AckJob } from '#lib/ports/ack-queue.ts';
import type { ChannelSender, OutboundText, SenderRegistry, SendReceipt } from '#lib/ports/channel-sender.ts';
import type { Clock } from '#lib/ports/clock.ts';
import type { ConversationStore } from '#lib/ports/conversation-store.ts';
import { ConcurrentUpdateError, SendError } from '#lib/ports/errors.ts';
import type { EventSink } from '#lib/ports/event-sink.ts';
import type { Log } from '#lib/ports/logger.ts';
import type { Metrics } from '#lib/ports/metrics.ts';
import {
  laterLookUp,
  lookUpEnded,
  lookUpOwed,
  lookUpTarget,
  SWITCHED_OFF_REASON,
  switchedOffRetryAt,
  viaOf,
} from './ack-lookups.ts';
import { MAX_WRITES, trySave, updateConversation } from './conversation-writes.ts';
import { applyDelivery } from './record-updates.ts';
import { canLookUp, findUncertainSend } from './uncertain-sends.ts';

export type SendAckDeps = {
  store: ConversationStore;
  senders: SenderRegistry;
  clock: Clock;
  log: Log;
  metrics: Metrics;
  business: BusinessConfig;
  ack: { leaseMs: number; maxAttempts: number };
  /** [0, 1): the retry backoff's jitter; tests pin it. */
  random?: () => number;
  /**
   * The event fan-out the store publishes through. When given, a sent message's events go out
   * before the write that marks it sent, and that write carries none: no clearing write after
   * it (one conversation write, 8–16 WRU, fewer per ack).
   */
  events?: EventSink;
};

export type SendAckResult =
  | { kind: 'sent'; messageId: string }
  | { kind: 'skipped'; reason: string }
  | { kind: 'failed'; reason: string }
  | { kind: 'nothing-to-do'; reason: 'stale' | 'done' | 'leased' | 'not-yet' | 'missing' };

/** A transient send failure: the queue delivers the job again (and, in the end, to the DLQ). */
export class AckRetryError extends SendError {
  /** The last attempt: the ack is marked failed, the job goes on to the DLQ. */
  readonly final: boolean;
  constructor(reason: string, cause: unknown, final: boolean) {
    super(`automatic message not sent yet: ${reason}`, { permanent: false, cause });
    this.final = final;
  }
}

const WINDOW_MS = 24 * 60 * 60 * 1000;
/** Meta's window for a person's reply on Messenger and Instagram, tagged HUMAN_AGENT. */
const HUMAN_AGENT_WINDOW_MS = 7 * WINDOW_MS;

/**
 * Sends one episode's acknowledgement, or its late notice, at most once: re-checks that the
 * customer still waits, claims it with a conditional write (pending → sending with a lease),
 * sends, stores the outbound message, marks it sent (a notice also moves the promise, keeping
 * the first one for measuring). `receiveCount` is the queue's delivery count of this job.
 */
export async function sendAck(deps: SendAckDeps, job: AckJob, receiveCount = 1): Promise<SendAckResult> {
  const slot: Slot = job.kind ?? 'ack';
  try {
    const result = await sendAutomatic(deps, job, receiveCount);
    countOutcome(deps, slot, result.kind);
    return result;
  } catch (error) {
    if (error instanceof AckRetryError && error.final) countOutcome(deps, slot, 'failed');
    throw error;
  }
}

function countOutcome(deps: SendAckDeps, slot: Slot, outcome: SendAckResult['kind']): void {
  if (outcome === 'nothing-to-do') return;
  if (slot === 'notice') {
    if (outcome === 'sent') deps.metrics.count('NoticesSent');
    else if (outcome === 'failed') deps.metrics.count('NoticesFailed');
    return;
  }
  deps.metrics.count(outcome === 'sent' ? 'AcksSent' : outcome === 'skipped' ? 'AcksSkipped' : 'AcksFailed');
}

async function sendAutomatic(deps: SendAckDeps, job: AckJob, receiveCount: number): Promise<SendAckResult> {
  const slot: Slot = job.kind ?? 'ack';
  const claimed = await claim(deps, job, slot, receiveCount === 1);
  if ('kind' in claimed) return claimed;
  const conversation = claimed.conversation;
  const route = conversation.route;
  const messageId = ackMessageId(conversation.id, job.episode, slot);
  // An ack states the episode's promise signed by the promised person as listed now (their
  // current direct line), or the default person once they are off the people list: it may go
  // long after the promise was made (a backoff, a redrive, a deploy between).
  const signed =
    slot === 'ack' && conversation.promise ? signedNow(deps.business, conversation.promise) : null;
  const sending = conversation[slot];
  const change =
    (outcome: Parameters<typeof settleAck>[2], promise?: ReplyPromise) => (current: Conversation) => {
      const settled = settleAck(current, job.episode, outcome, slot);
      // The next episode's job took the slot while this one was being sent: a try that may
      // have gone is still owed its lookup.
      if (settled === current) return sending ? owingReplacedTry(current, slot, sending, outcome) : current;
      if (promise) return stateNewPromise(settled, slot, promise);
      return outcome.state === 'sent' && signed ? stateSigner(settled, signed) : settled;
    };
  // Most of the time nobody wrote since our claim: settle on the claimed version without
  // reading again; after a lost race (a new message, an agent's reply), read and retry.
  const settle = async (outcome: Parameters<typeof settleAck>[2], promise?: ReplyPromise) =>
    (await trySave(deps.store, change(outcome, promise)(conversation), conversation.version)) ??
    (await updateConversation(deps.store, conversation.id, change(outcome, promise)));
  // Once the provider has taken the message and its item is stored, "sent" is a durable fact:
  // its events go out first and the settling write carries none, so no clearing write follows.
  // A consumer may see `ack.sent` a few milliseconds before the conversation says so. If the
  // fan-out fails they ride in that write's outbox like any other event; after a crash before
  // the write, the retry settles again and the same event ids go out again (consumers drop
  // duplicates by id, as for every redelivery).
  const settleSent = async (outcome: Parameters<typeof settleAck>[2], promise?: ReplyPromise) => {
    const settled = change(outcome, promise)(conversation);
    const fresh = settled.outbox.filter((event) => !conversation.outbox.some((old) => old.id === event.id));
    // While older events wait aside (outboxSpill), these go after them, through the outbox.
    const ahead = !conversation.outboxSpill && fresh.length > 0 && deps.events;
    if (!ahead || !(await announce(deps, ahead, fresh, conversation.id))) {
      return settle(outcome, promise);
    }
    const announced = new Set(fresh.map((event) => event.id));
    const withoutAnnounced = (next: Conversation, current: Conversation) =>
      next === current
        ? current
        : { ...next, outbox: next.outbox.filter((event) => !announced.has(event.id)) };
    return (
      (await trySave(deps.store, withoutAnnounced(settled, conversation), conversation.version)) ??
      (await updateConversation(deps.store, conversation.id, (current) =>
        withoutAnnounced(change(outcome, promise)(current), current),
      ))
    );
  };

  // A previous worker sent it and died before marking it: finish its work, never resend. Its
  // provider-id alias may be missing too (it died right after storing the message): without
  // it the provider's delivery statuses and echoes would not find this message.
  const already = await deps.store.getMessage(messageId);
  if (already) {
    if (already.providerMessageId) {
      const early = await deps.store.putProviderAlias(already.provider, already.providerMessageId, messageId);
      if (early) await applyDelivery(deps, already, early);
    }
    const at = new Date(already.createdAt);
    await settle({ state: 'sent', at, messageId }, statedPromise(deps, conversation, slot, at));
    return { kind: 'sent', messageId };
  }

  const now = deps.clock.now();
  // A caller is acknowledged (and told of a delay) by SMS to the number they called from, if
  // it takes one (voiceSms): a landline's greeting spoke the promise, and that is all it gets.
  const channel = automaticChannelOf(route, deps.business.ack.voiceSms);
  const sender = channel ? deps.senders(route.provider, route.channel, route.businessId) : undefined;
  const closedWindow = windowClosed(conversation, now);
  if (!channel || !sender || !conversation.promise || closedWindow) {
    // Its last try may have reached the customer (a call since moved the route to a number we
    // may not text, the window closed): the provider is asked first, never skipped unasked.
    const earlier = conversation[slot]?.uncertain;
    const looked = earlier ? await lookUpEnded(deps, conversation, slot, earlier, messageId) : null;
    if (looked === 'switched-off') {
      // No provider was asked: the claim's try is given back (ack-lookups.ts, SWITCHED_OFF_WAIT_MS).
      const attempts = Math.max(0, (conversation[slot]?.attempts ?? 1) - 1);
      await settle({
        state: 'pending',
        reason: SWITCHED_OFF_REASON,
        retryAt: switchedOffRetryAt(now),
        attempts,
      });
      return { kind: 'nothing-to-do', reason: 'not-yet' };
    }
    if (looked === 'unknown') {
      const attempts = conversation[slot]?.attempts ?? 1;
      if (attempts < deps.ack.maxAttempts) {
        const retryAt = ackRetryAt(now, attempts, (deps.random ?? Math.random)());
        await settle({ state: 'pending', reason: 'LOOKUP_FAILED', retryAt });
        return { kind: 'nothing-to-do', reason: 'not-yet' };
      }
      deps.log.warn('could not learn whether an automatic message went; skipped', {
        conversationId: conversation.id,
        slot,
      });
    } else if (looked && earlier) {
      if (looked.providerMessageId) {
        const early = await deps.store.putProviderAlias(looked.provider, looked.providerMessageId, messageId);
        if (early) await applyDelivery(deps, looked, early);
      }
      const at = new Date(looked.createdAt);
      // A call since spoke the promise in force then: the customer heard that one last.
      const calledSince = Date.parse(conversation.inboundAt.voice ?? '') > at.getTime();
      await settle(
        { state: 'sent', at, messageId },
        calledSince ? undefined : statedPromise(deps, conversation, slot, at),
      );
      return { kind: 'sent', messageId };
    }
    const reason = closedWindow ? 'outside-window' : sender ? 'no-promise' : 'channel-cannot-send';
    await settle({ state: 'skipped', reason, at: now });
    return { kind: 'skipped', reason };
  }

  // A notice states a new time; so does an ack held up past its promise (an outage, the
  // queue's retries): never a time gone by, but the promise we can keep from now, which
  // becomes the episode's.
  const newPromise = statedPromise(deps, conversation, slot, now);
  // After a call the SMS says what the greeting said: thanks for calling, we call back by then.
  const callBack = route.channel === 'voice';
  const { text, subject } =
    newPromise && slot === 'notice'
      ? composeNotice(deps.business, {
          locale: conversation.locale,
          channel,
          now,
          promise: newPromise,
          // The promise in force is the one the customer last heard (an ack held up past its
          // promise stated a new one); the first is kept for measuring only.
          originalReplyBy: conversation.replyBy ?? newPromise.replyBy,
          contactName: conversation.contact.name,
          callBack,
        })
      : composeAck(deps.business, {
          locale: conversation.locale,
          channel,
          now,
          promise: newPromise ?? signed ?? conversation.promise,
          contactName: conversation.contact.name,
          callBack,
        });

  const outbound: OutboundText = {
    channel,
    provider: route.provider,
    to: route.customer,
    from: route.business,
    text,
    subject,
    senderName: (newPromise ?? signed ?? conversation.promise).signer.name,
    idempotencyKey: messageId,
    automatic: true,
    ...(route.thread ? { thread: route.thread } : {}),
  };
  let providerMessageId: string | null;
  // What the customer got: this text, or an earlier try's that the provider turns out to have taken.
  let sentText = text;
  try {
    const earlier = conversation[slot]?.uncertain;
    const earlierTry = earlier ? lookUpTarget(deps, conversation, earlier, messageId) : null;
    const receipt = await sendOnce(
      deps.store,
      sender,
      outbound,
      earlier && earlierTry ? { ...earlierTry, at: earlier.at } : undefined,
      now,
    );
    providerMessageId = receipt.providerMessageId;
    sentText = receipt.text;
  } catch (error) {
    const reason =
      error instanceof SendError
        ? `${error.code}${error.providerCode ? `:${error.providerCode}` : ''}`
        : 'error';
    const attempts = conversation[slot]?.attempts ?? 1;
    const permanent = error instanceof SendError && error.permanent;
    const final = permanent || attempts >= deps.ack.maxAttempts || receiveCount >= deps.ack.maxAttempts;
    // The provider says the 24-hour window is closed: not a failure of ours, and never retried.
    const outsideWindow = error instanceof SendError && error.providerCode === 'outside-window';
    // It may have gone: the next try asks the provider first, and comes no sooner than the wait.
    const uncertain = error instanceof SendError && error.uncertain;
    const backoff = ackRetryAt(now, attempts, (deps.random ?? Math.random)());
    // What its lookup needs rides on the write that marks it: where it went, not the route then in force.
    const mayHaveGone = uncertain ? { at: now, text, via: viaOf(outbound, route.businessId) } : undefined;
    await settle(
      outsideWindow
        ? { state: 'skipped', reason: 'outside-window', at: now }
        : final
          ? // Out of retries, not refused: the job goes to the DLQ, and a redrive tries again
            // (asking the provider first for a try that may have gone).
            { state: 'failed', reason, at: now, deadLettered: !permanent, uncertain: mayHaveGone }
          : // Backing off: the sweeper queues it again then (docs/store.md, "sendAck").
            {
              state: 'pending',
              reason,
              retryAt: uncertain
                ? new Date(Math.max(backoff.getTime(), now.getTime() + UNCERTAIN_WAIT_MS))
                : backoff,
              uncertain: mayHaveGone,
            },
    );
    deps.log.warn('automatic message not sent', {
      conversationId: conversation.id,
      slot,
      reason,
      final,
      attempts,
    });
    if (outsideWindow) return { kind: 'skipped', reason: 'outside-window' };
    if (permanent) return { kind: 'failed', reason };
    // Retryable failures go back to the queue, so that the last one lands in the DLQ.
    throw new AckRetryError(reason, error, final);
  }

  const { message: stored } = await deps.store.putMessage({
    id: messageId,
    conversationId: conversation.id,
    direction: 'outbound',
    kind: slot,
    channel,
    provider: route.provider,
    providerMessageId,
    from: route.business,
    to: route.customer,
    text: sentText,
    media: [],
    // Never before the message it answers, even when this worker's clock runs behind.
    createdAt: new Date(
      Math.max(now.getTime(), Date.parse(conversation.awaitingSince ?? '') + 1 || 0),
    ).toISOString(),
    contactKey: conversation.contact.key,
  });
  let heldFailure = false;
  if (providerMessageId) {
    // A status the provider sent before this alias existed was held for us: applied before
    // the ack is marked sent. A failure then stands, and no "ack.sent" is announced ahead.
    const early = await deps.store.putProviderAlias(route.provider, providerMessageId, messageId);
    if (early) {
      await applyDelivery(deps, stored, early);
      heldFailure = early.status === 'failed' || early.status === 'undelivered';
    }
  }
  await (heldFailure ? settle : settleSent)({ state: 'sent', at: now, messageId }, newPromise);
  deps.log.info(slot === 'ack' ? 'acknowledgement sent' : 'late notice sent', {
    conversationId: conversation.id,
    channel,
  });
  return { kind: 'sent', messageId };
}

/**
 * How long a try whose outcome we do not know waits before the next (which asks the provider
 * first where it can, and otherwise sends again): long enough for a request the provider was
 * still working on when we gave up to be done, and for its status callbacks to arrive.
 */
export const UNCERTAIN_WAIT_MS = 5 * 60_000;

/**
 * One try of an automatic message that never doubles one the provider may already have: an
 * earlier uncertain try's message, when the provider has it, is adopted instead of sending; a
 * send that ends uncertain is looked up at once (the provider that took it lists it). Returns
 * the receipt and the text the customer got; throws the send's SendError (still uncertain when
 * the provider cannot tell or has no such message yet).
 */
async function sendOnce(
  store: ConversationStore,
  sender: ChannelSender,
  message: OutboundText,
  earlier: { at: string; sender: ChannelSender; message: OutboundText } | undefined,
  now: Date,
): Promise<SendReceipt & { text: string }> {
  if (earlier && canLookUp(earlier.sender)) {
    let found: SendReceipt | null;
    try {
      found = await findUncertainSend(
        store,
        earlier.sender,
        earlier.message,
        new Date(earlier.at),
        message.idempotencyKey,
      );
    } catch (cause) {
      // The provider cannot tell now: nothing was sent, and the earlier try stays uncertain.
      throw new SendError(
        'automatic message not sent: the provider could not say whether it has the earlier try',
        {
          permanent: false,
          cause,
        },
      );
    }
    if (found) return { ...found, text: earlier.message.text };
  }
  try {
    return { ...(await sender.send(message)), text: message.text };
  } catch (error) {
    if (!(error instanceof SendError && error.uncertain && canLookUp(sender))) throw error;
    const found = await findUncertainSend(store, sender, message, now, message.idempotencyKey).catch(
      () => null,
    );
    if (found) return { ...found, text: message.text };
    throw error;
  }
}

/** Delivers events ahead of the write that records them; false (logged) when the fan-out failed. */
async function announce(
  deps: SendAckDeps,
  events: EventSink,
  batch: Parameters<EventSink['publish']>[0],
  conversationId: string,
): Promise<boolean> {
  try {
    await events.publish(batch);
    return true;
  } catch (error) {
    deps.log.warn('events not delivered yet; they stay in the outbox', {
      conversationId,
      error: (error as Error).name,
    });
    return false;
  }
}

/**
 * The promise an automatic message stored at `at` stated, when it moved the episode's: a
 * notice's always, an ack's when it was held up past the promise (the first worker computed
 * the same).
 */
function statedPromise(
  deps: SendAckDeps,
  conversation: Conversation,
  slot: Slot,
  at: Date,
): ReplyPromise | undefined {
  const heldUp = slot === 'ack' && Date.parse(conversation.promise?.replyBy ?? '') <= at.getTime();
  return slot === 'notice' || heldUp ? noticePromise(deps, conversation, at) : undefined;
}

/** The honest new time a late notice states: the next promise we can keep from now. */
function noticePromise(deps: SendAckDeps, conversation: Conversation, at: Date): ReplyPromise {
  return computePromise(deps.business, { receivedAt: at, channel: conversation.channel });
}

async function claim(
  deps: SendAckDeps,
  job: AckJob,
  slot: Slot,
  firstDelivery: boolean,
): Promise<{ conversation: Conversation } | SendAckResult> {
  // The events the recording write delivered without clearing them: this write removes them.
  const delivered = withoutDelivered(job.delivered);
  for (let attempt = 1; attempt <= MAX_WRITES; attempt++) {
    const current = await deps.store.getConversation(job.conversationId);
    if (!current) return { kind: 'nothing-to-do', reason: 'missing' };
    const now = deps.clock.now();
    const owed = current.lookUps?.find((l) => l.slot === slot && l.episode === job.episode);
    // Owed: its slot taken by a later episode's job, or settled since (a call spoke the ack).
    const inSlot = current[slot];
    const slotOpen =
      inSlot?.episode === job.episode && (inSlot.state === 'pending' || inSlot.state === 'sending');
    if (owed && !slotOpen) {
      const looked = await lookUpOwed(deps, current, owed, now);
      if (looked.kind === 'nothing-to-do') return looked;
      if (await trySave(deps.store, delivered(looked.next), current.version)) return looked.result;
      continue;
    }
    const ended = ackNoLongerNeeded(current, job.episode);
    // A dead-lettered ack of an episode that ended since, whose last try may have reached the
    // customer: its redrive only asks the provider (a fresh budget of lookups), like a pending one.
    const stuck = current[slot];
    const redrivenEnded =
      ended !== null &&
      stuck?.episode === job.episode &&
      stuck.state === 'failed' &&
      stuck.uncertain !== undefined &&
      isRedrive(stuck, now, firstDelivery);
    const working = redrivenEnded ? reopened(current, slot) : current;
    const target = working[slot];
    const open =
      target?.episode === job.episode && (target.state === 'pending' || target.state === 'sending');
    // Every worker that claimed it died holding it (a timeout, a crash): no more tries.
    const exhausted =
      open &&
      target.state === 'sending' &&
      target.attempts >= deps.ack.maxAttempts &&
      (!target.leaseUntil || Date.parse(target.leaseUntil) <= now.getTime());
    if ((ended || exhausted) && open) {
      // A worker that claimed it may have sent it and died before marking it: then it went out
      // (and was stored), and stays on record as sent, not skipped or failed.
      const messageId = ackMessageId(current.id, job.episode, slot);
      let sent =
        target.state === 'sending' || target.uncertain ? await deps.store.getMessage(messageId) : null;
      // Its last try may have reached the customer: the provider is asked (never sent again now).
      if (!sent && ended && target.uncertain) {
        const looked = await lookUpEnded(deps, current, slot, target.uncertain, messageId);
        if (looked === 'unknown' || looked === 'switched-off') {
          const later = laterLookUp(deps, working, target, slot, now, looked === 'switched-off');
          if (later && (await trySave(deps.store, delivered(later), current.version)))
            return { kind: 'nothing-to-do', reason: 'not-yet' };
          if (later) continue;
          deps.log.warn('could not learn whether an automatic message went; skipped', {
            conversationId: current.id,
            slot,
          });
        } else sent = looked;
      }
      // Its worker may have died before the provider-id alias: written here too, with any
      // status held for it, so statuses and echoes find the message.
      if (sent?.providerMessageId) {
        const early = await deps.store.putProviderAlias(sent.provider, sent.providerMessageId, messageId);
        if (early) await applyDelivery(deps, sent, early);
      }
      const outcome = sent
        ? ({ state: 'sent', at: new Date(sent.createdAt), messageId } as const)
        : ended
          ? ({ state: 'skipped', reason: ended, at: now } as const)
          : ({ state: 'failed', reason: 'worker-died', at: now } as const);
      const settled = settleAck(working, job.episode, outcome, slot);
      // What it stated holds, as when the next worker finds it stored (an ended episode's
      // promise is no longer anyone's to move).
      const stated =
        sent && !ended ? statedPromise(deps, current, slot, new Date(sent.createdAt)) : undefined;
      const next = settled !== working ? stateNewPromise(settled, slot, stated) : settled;
      if (await trySave(deps.store, delivered(next), current.version)) {
        if (sent) return { kind: 'sent', messageId };
        return ended ? { kind: 'skipped', reason: ended } : { kind: 'failed', reason: 'worker-died' };
      }
      continue;
    }
    // An ack that waits for the same person's ack in their other key's conversation (Ack.after).
    const linked = target?.episode === job.episode ? await afterLinkedAck(deps, current, target, now) : null;
    if (linked && 'kind' in linked) {
      if (await trySave(deps.store, delivered(linked.next), current.version)) return linked.result;
      continue;
    }
    const result = claimAck(linked?.free ?? current, job.episode, now, deps.ack.leaseMs, slot, {
      firstDelivery,
    });
    // Another copy of the job of an ack that ran out of retries (the sweeper queued copies
    // during the outage): it goes on to the DLQ too, where the alarm sees it and a redrive
    // tries again, instead of being dropped as done.
    if (
      result.kind === 'skip' &&
      !ended &&
      target?.episode === job.episode &&
      deadLetteredAt(target) !== null &&
      !isRedrive(target, now, firstDelivery)
    ) {
      deps.log.info('copy of a dead-lettered job: on to the DLQ', { conversationId: current.id, slot });
      throw new AckRetryError(target.reason ?? 'dead-lettered', undefined, false);
    }
    if (result.kind === 'skip') {
      // Nothing to send, but the delivered events still go: a lost race leaves them to the sweeper.
      const cleared = delivered(current);
      if (cleared !== current) await trySave(deps.store, cleared, current.version);
      return { kind: 'nothing-to-do', reason: result.reason };
    }
    const saved = await trySave(deps.store, delivered(result.conversation), current.version);
    if (saved) return { conversation: saved };
  }
  throw new ConcurrentUpdateError(`conversation ${job.conversationId}`);
}

/**
 * An ack due now that waits for the same person's ack in another conversation (Ack.after: the
 * one their other key opened before the link, still queued then): one read of that
 * conversation, and of its contact while it is not written. While that ack is still to go, this
 * one waits (`retryAt`, no try counted); once it went, this one is skipped; when it did not go,
 * this one is freed (`free`) and sent. Null for any other ack, or one not due yet.
 */
async function afterLinkedAck(
  deps: SendAckDeps,
  conversation: Conversation,
  job: NonNullable<Conversation['ack']>,
  now: Date,
): Promise<{ free: Conversation } | { kind: 'done'; next: Conversation; result: SendAckResult } | null> {
  const { after } = job;
  if (!after || job.state !== 'pending' || conversation.ack !== job) return null;
  if (job.retryAt && Date.parse(job.retryAt) > now.getTime()) return null;
  const other = await deps.store.getConversation(after.conversationId);
  // Not written yet: still claimed (its message in flight), or given up (recorded elsewhere)?
  const claimedBy = !other && after.contactKey ? await deps.store.getContact(after.contactKey) : null;
  const stillClaimed = claimedBy?.openConversationId === after.conversationId;
  const verdict = linkedAckVerdict(
    other,
    { ...job, after },
    stillClaimed,
    now,
    deps.business.ack,
    conversation.id,
  );
  if (verdict.kind === 'wait') {
    const next = { ...conversation, ack: { ...job, retryAt: verdict.retryAt.toISOString() } };
    return { kind: 'done', next, result: { kind: 'nothing-to-do', reason: 'not-yet' } };
  }
  if (verdict.kind === 'skip') {
    const next = settleAck(conversation, job.episode, { state: 'skipped', reason: verdict.reason, at: now });
    return { kind: 'done', next, result: { kind: 'skipped', reason: verdict.reason } };
  }
  const { after: _after, ...freed } = job;
  return { free: { ...conversation, ack: freed } };
}

/** A dead-lettered job taken up again by its redrive: sending, with a fresh budget of tries. */
function reopened(conversation: Conversation, slot: Slot): Conversation {
  const job = conversation[slot];
  if (!job) return conversation;
  const { deadLetteredAt: _dead, ...rest } = job;
  return { ...conversation, [slot]: { ...rest, state: 'sending', attempts: 1 } };
}

/** Removes the named (already delivered) events from a conversation's outbox; the same object when none is there. */
function withoutDelivered(ids: readonly string[] | undefined): (conversation: Conversation) => Conversation {
  const delivered = new Set(ids ?? []);
  return (conversation) => {
    if (!conversation.outbox.some((event) => delivered.has(event.id))) return conversation;
    const outbox = conversation.outbox.filter((event) => !delivered.has(event.id));
    return {
      ...conversation,
      outbox,
      ...(outbox.length === 0 ? { outboxRetryAt: undefined, outboxFailures: undefined } : {}),
    };
  };
}

/**
 * Meta (Messenger, Instagram, WhatsApp Cloud) and WhatsApp through Twilio allow free-form
 * messages only within 24 hours of the customer's last message on that channel.
 */
export function windowClosed(conversation: Conversation, now: Date): boolean {
  return replyWindow(conversation, now, false) === 'closed';
}

/**
 * Whether a person's reply may go now: `open` inside the 24-hour window (or on a channel without
 * one); `human-agent` on Messenger and Instagram up to 7 days after the customer's last message
 * there, when the Meta app may tag it HUMAN_AGENT (`humanAgent`; Meta allows the tag for a
 * person's reply only, never for an ack or a notice); else `closed` (WhatsApp has no such tag:
 * only an approved template, which sendReply sends for a person's reply, never for an ack).
 */
export function replyWindow(
  conversation: Conversation,
  now: Date,
  humanAgent: boolean,
): 'open' | 'human-agent' | 'closed' {
  const { channel, provider } = conversation.route;
  const windowed =
    channel === 'whatsapp' || channel === 'messenger' || channel === 'instagram' || provider === 'meta';
  if (!windowed) return 'open';
  const last = conversation.inboundAt[channel];
  const since = last ? now.getTime() - Date.parse(last) : Number.POSITIVE_INFINITY;
  if (since < WINDOW_MS) return 'open';
  const tagged = humanAgent && provider === 'meta' && (channel === 'messenger' || channel === 'instagram');
  return tagged && since < HUMAN_AGENT_WINDOW_MS ? 'human-agent' : 'closed';
}
