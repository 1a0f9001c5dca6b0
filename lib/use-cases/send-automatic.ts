// The send of a claimed automatic message: the checks before it, the send and its errors, the settling write.

import {
  ackRetryAt,
  ackTryMessageId,
  automaticChannelOf,
  type Conversation,
  owingReplacedTry,
  type Slot,
  settleAck,
  stateNewPromise,
  stateSigner,
} from '#lib/domain/conversation.ts';
import type { ReplyPromise } from '#lib/domain/promise.ts';
import { signedNow } from '#lib/domain/signer.ts';
import { composeAck, composeNotice } from '#lib/domain/texts/index.ts';
import type { AckJob } from '#lib/ports/ack-queue.ts';
import type { OutboundText } from '#lib/ports/channel-sender.ts';
import { SendError } from '#lib/ports/errors.ts';
import { lookUpEnded, lookUpTarget, switchedOffWait, viaOf } from './ack-lookups.ts';
import { trySave, updateConversation } from './conversation-writes.ts';
import { applyDelivery } from './record-updates.ts';
import { windowClosed } from './reply-window.ts';
import { earlierTry, reportUnread } from './reported-try.ts';
import { claim } from './send-ack-claim.ts';
import { AckRetryError, type SendAckDeps, type SendAckResult } from './send-ack-deps.ts';
import { announce, statedPromise, withoutAnnouncedCopies } from './send-ack-settle.ts';
import { sendOnce, UNCERTAIN_WAIT_MS } from './send-once.ts';
import { refusedForNumber } from './send-refused.ts';

async function sendAutomatic(deps: SendAckDeps, job: AckJob, receiveCount: number): Promise<SendAckResult> {
  const slot: Slot = job.kind ?? 'ack';
  const claimed = await claim(deps, job, slot, receiveCount === 1);
  if ('kind' in claimed) return claimed;
  const conversation = claimed.conversation;
  const route = conversation.route;
  // The episode's message, or a resend's own after the sent one was reported failed (Ack.resends).
  const claimedJob = conversation[slot];
  const messageId = ackTryMessageId(
    conversation.id,
    claimedJob?.episode === job.episode ? claimedJob : { episode: job.episode },
    slot,
  );
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
      if (settled === current)
        return sending ? owingReplacedTry(current, slot, sending, outcome, deps.clock.now()) : current;
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
    const withoutAnnounced = withoutAnnouncedCopies(fresh);
    return (
      (await trySave(deps.store, withoutAnnounced(settled, conversation), conversation.version)) ??
      (await updateConversation(deps.store, conversation.id, (current) =>
        withoutAnnounced(change(outcome, promise)(current), current),
      ))
    );
  };

  // A previous worker sent it and died before marking it (or storing it: a claim after another's, or a
  // redrive's, reads Twilio's report, reportedTry): finish its work, never resend; its alias too.
  const again = ((claimedJob?.attempts ?? 1) > 1 || claimed.redriven) && claimedJob?.episode === job.episode;
  const already = await earlierTry(deps, conversation, slot, messageId, again && claimedJob.requestedAt);
  if (already && 'unknown' in already)
    return reportUnread(deps, conversation, slot, receiveCount, settle, already);
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
  // Its channel is switched off in this deployment (configured by half): it waits, the claim's
  // try given back, set aside (waitsForChannel: no sweep time, no write) until the sweeper of a
  // deployment that can send it queues it (the re-checks above and the claim's apply then).
  const waitSwitchedOff = async (): Promise<SendAckResult> => {
    await settle(switchedOffWait(conversation[slot]?.attempts, now));
    deps.log.info('automatic message waits for its channel to be configured', {
      conversationId: conversation.id,
      slot,
      provider: route.provider,
    });
    return { kind: 'nothing-to-do', reason: 'not-yet' };
  };
  if (!channel || !sender || !conversation.promise || closedWindow) {
    // Its last try may have reached the customer (a call since moved the route to a number we
    // may not text, the window closed): the provider is asked first, never skipped unasked.
    const earlier = conversation[slot]?.uncertain;
    const looked = earlier ? await lookUpEnded(deps, conversation, slot, earlier, messageId) : null;
    // No provider was asked: the claim's try is given back (ack-lookups.ts, SWITCHED_OFF_WAIT_MS).
    if (looked === 'switched-off') return waitSwitchedOff();
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

  if (sender.switchedOff) return waitSwitchedOff();

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
          // promise stated a new one); the first is kept for measuring only. An ack skipped to stay
          // quiet after our reply told them none: nothing to say we cannot keep.
          originalReplyBy:
            conversation.ack?.state === 'sent' ? (conversation.replyBy ?? newPromise.replyBy) : null,
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
    const refused = await refusedForNumber(deps, conversation, slot, job.episode, error, now);
    if (refused) return refused;
    const code = error instanceof SendError ? error.providerCode : undefined;
    const reason = error instanceof SendError ? `${error.code}${code ? `:${code}` : ''}` : 'error';
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

export { sendAutomatic };
