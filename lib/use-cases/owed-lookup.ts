// The owed lookups' tries (Conversation.lookUps): an ended episode's ack or notice whose last try
// was uncertain, or was being sent, when the next episode's job took its slot; the provider is
// asked for it by the worker (send-ack-claim.ts), never sent again.

import {
  ackRetryAt,
  ackTryMessageId,
  type Conversation,
  deadLetterLookUp,
  type OwedLookUp,
  owedRedrive,
  settleLookUp,
  type UncertainTry,
} from '#lib/domain/conversation.ts';
import { SendError } from '#lib/ports/errors.ts';
import {
  type LookUpDeps,
  type LookUpResult,
  lookUpEnded,
  lookUpTarget,
  switchedOffRetryAt,
} from './ack-lookups.ts';
import { applyDelivery } from './record-updates.ts';
import { reportedTry } from './reported-try.ts';
import { UNCERTAIN_WAIT_MS } from './send-once.ts';

/** How an owed lookup's try ended; `deadLettered`: its tries spent, its job goes on to the DLQ. */
export type OwedLookUpResult =
  | { kind: 'nothing-to-do'; reason: 'not-yet' }
  | { kind: 'dead-lettered' }
  | {
      kind: 'done';
      next: Conversation;
      result: LookUpResult;
      deadLettered?: { error: SendError; final: boolean };
    };

/**
 * The lookup-only try of an ended episode's ack or notice that the next episode's job replaced
 * before its lookup (Conversation.lookUps): recorded as sent when the provider has it, skipped
 * when it has none or after the last try that could not ask; `next` is the conversation to write.
 * A provider's report it could not read back (an API outage) backs off, each read a try, then is
 * dead-lettered (reportUnreadOwed); a redrive (`firstDelivery`) reads it again.
 */
export async function lookUpOwed(
  deps: LookUpDeps,
  conversation: Conversation,
  asked: OwedLookUp,
  now: Date,
  firstDelivery: boolean,
): Promise<OwedLookUpResult> {
  const redrive = owedRedrive(asked, now, firstDelivery);
  // Another copy of a dead-lettered lookup's job: on to the DLQ too (its alarm, its redrive).
  if (redrive === 'copy') return { kind: 'dead-lettered' };
  // A redrive asks at once, with a fresh budget of tries (as a dead-lettered job's redrive).
  const { deadLetteredAt: _dead, ...live } = asked;
  const owed: OwedLookUp = redrive ? { ...live, attempts: 0 } : asked;
  if (!redrive && Date.parse(owed.retryAt) - LOOKUP_CLOCK_SKEW_MS > now.getTime())
    return { kind: 'nothing-to-do', reason: 'not-yet' };
  const messageId = ackTryMessageId(conversation.id, owed, owed.slot);
  const { uncertain } = owed;
  // Being sent when its slot was taken (no uncertain try), its worker dead (lease over): stored, or
  // reported by the provider (reportedTry), it went; else skipped below (no text to ask by).
  let sent = await deps.store.getMessage(messageId);
  try {
    sent ??= uncertain ? null : await reportedTry(deps, conversation, owed.slot, messageId, owed.requestedAt);
  } catch (error) {
    if (!(error instanceof SendError)) throw error;
    return reportUnreadOwed(deps, conversation, owed, now, error);
  }
  if (!sent && uncertain) {
    const looked = await lookUpEnded(deps, conversation, owed.slot, uncertain, messageId);
    if (looked === 'switched-off') {
      const retryAt = switchedOffRetryAt(now);
      const next = settleLookUp(conversation, owed, { state: 'pending', retryAt, counted: false });
      return { kind: 'done', next, result: { kind: 'nothing-to-do', reason: 'not-yet' } };
    }
    if (looked === 'unknown') {
      const attempts = owed.attempts + 1;
      if (attempts < deps.ack.maxAttempts) {
        const retryAt = ackRetryAt(now, attempts, (deps.random ?? Math.random)());
        const next = settleLookUp(conversation, owed, { state: 'pending', retryAt });
        return { kind: 'done', next, result: { kind: 'nothing-to-do', reason: 'not-yet' } };
      }
      deps.log.warn('could not learn whether an automatic message went; skipped', {
        conversationId: conversation.id,
        slot: owed.slot,
      });
    } else sent = looked;
  }
  // Due at once (its job had failed), asked before a report-only provider's (Meta's) echo or
  // status could come: it waits for it (settleReported), as a pending try waits UNCERTAIN_WAIT_MS.
  const reportDue = Date.parse(uncertain?.at ?? '') + UNCERTAIN_WAIT_MS;
  const reportAwaited =
    !sent && uncertain && reportDue > now.getTime() && reportsOnly(deps, conversation, uncertain, messageId);
  if (reportAwaited) {
    const next = settleLookUp(conversation, owed, {
      state: 'pending',
      retryAt: new Date(reportDue),
      counted: false,
    });
    return { kind: 'done', next, result: { kind: 'nothing-to-do', reason: 'not-yet' } };
  }
  if (sent?.providerMessageId) {
    const early = await deps.store.putProviderAlias(sent.provider, sent.providerMessageId, messageId);
    if (early) await applyDelivery(deps, sent, early);
  }
  if (sent) {
    const next = settleLookUp(conversation, owed, { state: 'sent', at: new Date(sent.createdAt), messageId });
    return { kind: 'done', next, result: { kind: 'sent', messageId } };
  }
  const next = settleLookUp(conversation, owed, { state: 'skipped', reason: 'answered', at: now });
  return { kind: 'done', next, result: { kind: 'skipped', reason: 'answered' } };
}

/** Whether the uncertain try's provider cannot be asked, only tells us (ChannelSender.reportsSends, no find). */
function reportsOnly(
  deps: LookUpDeps,
  conversation: Conversation,
  uncertain: UncertainTry,
  messageId: string,
): boolean {
  const sender = lookUpTarget(deps, conversation, uncertain, messageId)?.sender;
  return sender?.reportsSends === true && sender.find === undefined;
}

/** A worker whose clock runs this much behind the sweeper's still takes the lookup it queued. */
const LOOKUP_CLOCK_SKEW_MS = 5_000;

/**
 * An owed lookup whose reported try the provider could not read back now (an API outage): never
 * given up unread (the customer may have it). It backs off as the job path does (reportUnread),
 * each read a try; its tries spent, it is dead-lettered (deadLetterLookUp: kept, counted failed
 * once, the sweeper queues it no more) and its job goes on to the DLQ; a redrive reads again.
 */
function reportUnreadOwed(
  deps: LookUpDeps,
  conversation: Conversation,
  owed: OwedLookUp,
  now: Date,
  error: SendError,
): OwedLookUpResult {
  const attempts = owed.attempts + 1;
  const final = attempts >= deps.ack.maxAttempts;
  deps.log.warn('provider could not be asked for a reported automatic message', {
    conversationId: conversation.id,
    slot: owed.slot,
    final,
    attempts,
    error: error.code,
  });
  const notYet = { kind: 'nothing-to-do', reason: 'not-yet' } as const;
  if (!final) {
    const retryAt = ackRetryAt(now, attempts, (deps.random ?? Math.random)());
    return {
      kind: 'done',
      next: settleLookUp(conversation, owed, { state: 'pending', retryAt }),
      result: notYet,
    };
  }
  const next = deadLetterLookUp(conversation, { ...owed, attempts }, now);
  // Counted failed once: not again when its job had been (countedFailed) nor on a redrive's end.
  return { kind: 'done', next, result: notYet, deadLettered: { error, final: !owed.countedFailed } };
}
