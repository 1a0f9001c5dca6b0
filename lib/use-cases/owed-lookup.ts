// The owed lookups' tries (Conversation.lookUps): an ended episode's ack or notice whose last try
// was uncertain, or was being sent, when the next episode's job took its slot; the provider is
// asked for it by the worker (send-ack-claim.ts), never sent again.

import {
  ackRetryAt,
  ackTryMessageId,
  type Conversation,
  type OwedLookUp,
  settleLookUp,
  type UncertainTry,
} from '#lib/domain/conversation.ts';
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

/**
 * The lookup-only try of an ended episode's ack or notice that the next episode's job replaced
 * before its lookup (Conversation.lookUps): recorded as sent when the provider has it, skipped
 * when it has none or after the last try that could not ask; `next` is the conversation to write.
 */
export async function lookUpOwed(
  deps: LookUpDeps,
  conversation: Conversation,
  owed: OwedLookUp,
  now: Date,
): Promise<
  { kind: 'nothing-to-do'; reason: 'not-yet' } | { kind: 'done'; next: Conversation; result: LookUpResult }
> {
  if (Date.parse(owed.retryAt) - LOOKUP_CLOCK_SKEW_MS > now.getTime())
    return { kind: 'nothing-to-do', reason: 'not-yet' };
  const messageId = ackTryMessageId(conversation.id, owed, owed.slot);
  const { uncertain } = owed;
  // Being sent when its slot was taken (no uncertain try), its worker dead (lease over): stored, or
  // reported by the provider (reportedTry), it went; else skipped below (no text to ask by).
  let sent =
    (await deps.store.getMessage(messageId)) ??
    (uncertain ? null : await reportedTry(deps, conversation, owed.slot, messageId, owed.requestedAt));
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
