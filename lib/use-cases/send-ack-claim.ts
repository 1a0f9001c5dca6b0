// The ack worker's claim: the checks before a send (ended, exhausted, owed lookup, linked ack) and its write.

import {
  ackNoLongerNeeded,
  ackTryMessageId,
  type Conversation,
  claimAck,
  deadLetteredAt,
  isRedrive,
  mayHaveGone,
  REPORT_UNREAD_REASON,
  replacedSent,
  type Slot,
  settleAck,
  stateNewPromise,
  waitsForChannel,
} from '#lib/domain/conversation.ts';
import type { AckJob } from '#lib/ports/ack-queue.ts';
import { ConcurrentUpdateError } from '#lib/ports/errors.ts';
import { laterLookUp, lookUpEnded } from './ack-lookups.ts';
import { MAX_WRITES, trySave } from './conversation-writes.ts';
import { lookUpOwed } from './owed-lookup.ts';
import { applyDelivery } from './record-updates.ts';
import { earlierTry } from './reported-try.ts';
import { AckRetryError, type SendAckDeps, type SendAckResult } from './send-ack-deps.ts';
import { afterLinkedAck, channelStillOff } from './send-ack-linked.ts';
import { statedPromise } from './send-ack-settle.ts';

async function claim(
  deps: SendAckDeps,
  job: AckJob,
  slot: Slot,
  firstDelivery: boolean,
): Promise<{ conversation: Conversation; redriven: boolean } | SendAckResult> {
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
      const looked = await lookUpOwed(deps, current, owed, now, firstDelivery);
      if (looked.kind === 'nothing-to-do') return looked;
      if (looked.kind === 'dead-lettered') throw new AckRetryError('LOOKUP_FAILED', undefined, false);
      if (await trySave(deps.store, delivered(looked.next), current.version)) {
        const dead = looked.deadLettered;
        if (dead) throw new AckRetryError('LOOKUP_FAILED', dead.error, dead.final);
        // Settled (sent or skipped): a failure counted when its job went to the DLQ is taken back.
        const settled = !looked.next.lookUps?.some((l) => l.slot === slot && l.episode === job.episode);
        if (owed.countedFailed && settled)
          deps.metrics.count(slot === 'ack' ? 'AcksFailed' : 'NoticesFailed', -1);
        // A call's greeting spoke it since (heardOnCall): counted sent at intake, not again here.
        const spoken = inSlot?.episode === job.episode && inSlot.reason === 'spoken-on-call';
        return spoken && looked.result.kind !== 'nothing-to-do'
          ? { kind: 'nothing-to-do', reason: 'done' }
          : looked.result;
      }
      continue;
    }
    // Delivered again (its worker died) after the next episode's job took its slot: that worker
    // may have stored the message and died before the write that announces it (owingReplacedTry).
    if (!owed && !firstDelivery && inSlot && inSlot.episode > job.episode) {
      const found = await replacedTryStored(deps, current, slot, job);
      if (found && (await trySave(deps.store, delivered(found.next), current.version)))
        return { kind: 'sent', messageId: found.messageId };
      if (found) continue;
    }
    const ended = ackNoLongerNeeded(current, job.episode);
    // A dead-lettered ack of an episode that ended since, whose last try may have reached the
    // customer: its redrive only asks the provider (a fresh budget of lookups), like a pending one.
    const stuck = current[slot];
    const redrivenEnded =
      ended !== null &&
      stuck?.episode === job.episode &&
      stuck.state === 'failed' &&
      mayHaveGone(stuck) &&
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
      const messageId = ackTryMessageId(current.id, target, slot);
      let sent =
        target.state === 'sending' || mayHaveGone(target) ? await deps.store.getMessage(messageId) : null;
      // The provider reported taking it and could not be read back, or its worker died sending it
      // (a report may name it: reportedTry): read, never skipped unread.
      if (!sent && ended && !target.uncertain && (mayHaveGone(target) || target.state === 'sending')) {
        const read = await earlierTry(deps, working, slot, messageId, target.requestedAt);
        if (read && 'unknown' in read) {
          const final = unreadAgain(deps, working, target, slot, now);
          if (await trySave(deps.store, delivered(final.next), current.version)) {
            takeBackRedriven(deps, slot, current, final.next);
            if (final.failed)
              // Counted failed once (sendAck): not again when it was dead-lettered already.
              throw new AckRetryError(REPORT_UNREAD_REASON, read.unknown, stuck?.state !== 'failed');
            return { kind: 'nothing-to-do', reason: 'not-yet' };
          }
          continue;
        }
        sent = read;
      }
      // Its last try may have reached the customer: the provider is asked (never sent again now).
      if (!sent && ended && target.uncertain) {
        const looked = await lookUpEnded(deps, current, slot, target.uncertain, messageId);
        if (looked === 'unknown' || looked === 'switched-off') {
          const later = laterLookUp(deps, working, target, slot, now, looked === 'switched-off');
          if (later && (await trySave(deps.store, delivered(later), current.version))) {
            takeBackRedriven(deps, slot, current, later);
            return { kind: 'nothing-to-do', reason: 'not-yet' };
          }
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
        takeBackRedriven(deps, slot, current, next);
        if (sent) return { kind: 'sent', messageId };
        return ended ? { kind: 'skipped', reason: ended } : { kind: 'failed', reason: 'worker-died' };
      }
      continue;
    }
    // Waiting for its channel's configuration, which this deployment still lacks (a copy of its
    // job the queue redelivered): left as it is, no claim or settling write; the sweeper of a
    // deployment that can send it queues it (sweep-waiting.ts).
    if (target?.episode === job.episode && waitsForChannel(target) && channelStillOff(deps, current)) {
      const cleared = delivered(current);
      if (cleared !== current) await trySave(deps.store, cleared, current.version);
      return { kind: 'nothing-to-do', reason: 'not-yet' };
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
      target?.episode === job.episode &&
      // An ended episode's too when its report is still to be read (its redrive reads it).
      (!ended || target.reason === REPORT_UNREAD_REASON) &&
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
    if (saved) {
      takeBackRedriven(deps, slot, current, saved);
      // A redrive starts its tries again (attempts 1): send-automatic still reads a report first.
      const was = current[slot];
      return { conversation: saved, redriven: was !== null && deadLetteredAt(was) !== null };
    }
  }
  throw new ConcurrentUpdateError(`conversation ${job.conversationId}`);
}

/**
 * The first try of a job whose slot a later episode's job holds, found stored (its worker sent it
 * and died before settling): its provider-id alias written (with any status held for it) and its
 * `*.sent` announced (replacedSent). Null when not stored, or already in the outbox.
 */
async function replacedTryStored(
  deps: SendAckDeps,
  current: Conversation,
  slot: Slot,
  job: AckJob,
): Promise<{ next: Conversation; messageId: string } | null> {
  const messageId = ackTryMessageId(current.id, { episode: job.episode }, slot);
  const sent = await deps.store.getMessage(messageId);
  if (!sent) return null;
  if (sent.providerMessageId) {
    const early = await deps.store.putProviderAlias(sent.provider, sent.providerMessageId, messageId);
    if (early) await applyDelivery(deps, sent, early);
  }
  const next = replacedSent(
    current,
    slot,
    { episode: job.episode },
    { at: new Date(sent.createdAt), messageId },
  );
  return next === current ? null : { next, messageId };
}

/**
 * A dead-lettered job its redrive took out of `failed` (claimed to be sent again, settled, or to
 * be asked about again): its failure, counted in AcksFailed (NoticesFailed) when it went to the
 * DLQ, is taken back, once (only the conditional write that moved it out of `failed` does), and
 * the redrive's own outcome is counted as any try's: a dead-lettered ack found sent counts once,
 * as sent, and one that fails again once, as failed (settleReported does the same for Meta's report).
 */
function takeBackRedriven(deps: SendAckDeps, slot: Slot, before: Conversation, after: Conversation): void {
  const was = before[slot];
  if (was?.state !== 'failed' || deadLetteredAt(was) === null) return;
  if (after[slot]?.episode === was.episode && after[slot]?.state === 'failed') return;
  deps.metrics.count(slot === 'ack' ? 'AcksFailed' : 'NoticesFailed', -1);
}

/**
 * An ended episode's job whose reported try could not be read back again: backing off
 * (laterLookUp), or, its tries spent, failed and dead-lettered as the job path's (reportUnread).
 */
function unreadAgain(
  deps: SendAckDeps,
  working: Conversation,
  target: NonNullable<Conversation[Slot]>,
  slot: Slot,
  now: Date,
): { next: Conversation; failed: boolean } {
  const later = laterLookUp(deps, working, target, slot, now);
  if (later) return { next: later, failed: false };
  const outcome = { state: 'failed', reason: REPORT_UNREAD_REASON, at: now, deadLettered: true } as const;
  return { next: settleAck(working, target.episode, outcome, slot), failed: true };
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

export { claim };
