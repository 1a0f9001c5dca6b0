// A provider's report of one of our sends whose answer was lost (Meta's echo or tagged status,
// Twilio's status callback naming our message), settling that try when it arrives.

import { mayBeAlias } from '#lib/domain/contact.ts';
import {
  ackNoLongerNeeded,
  ackTryMessageId,
  type Conversation,
  type Slot,
  settleAck,
  settleLookUp,
  stateNewPromise,
  stateSigner,
  type UncertainTry,
} from '#lib/domain/conversation.ts';
import type { DeliveryUpdate, Message } from '#lib/domain/message.ts';
import { signedNow } from '#lib/domain/signer.ts';
import { wentVia } from './ack-lookups.ts';
import { applyStoredReply, updateConversation } from './conversation-writes.ts';
import { applyDelivery, type UpdateDeps } from './record-updates.ts';
import { statedPromise } from './send-ack-settle.ts';

/** What the provider reported of our message: its id there. */
type Reported = { provider: string; providerMessageId: string };

/** Where the reported message's conversation is: known (an untagged echo's), or its customer's. */
type Place = { conversationId: string } | { contactKey: string };

/**
 * The provider reported taking our message `messageId` (noteReported): the try of it whose answer
 * was lost, still waiting for its lookup, is settled now, not at that lookup: an agent's reply
 * (uncertainReplies) recorded as sent and applied, as its retry would have; an ack or notice whose
 * job waits after that try (pending) or whose ended episode owes its lookup (lookUps) recorded as
 * sent, as its worker would have. Stored under its own id (a lookup or retry that comes after finds
 * it and finishes, never sends again; one that came first left nothing to settle here). A try
 * settled already, or one a worker holds now (it asks the provider first: it finds the report),
 * changes nothing. Reads: the contact (and a BSUID's alias) unless the conversation is known, the
 * conversation, and the contact's latest other conversation when the open one holds no such try
 * (resolved since); writes only when a try is settled.
 */
export async function settleReported(
  deps: UpdateDeps,
  messageId: string,
  reported: Reported,
  place: Place,
): Promise<void> {
  if ('conversationId' in place) {
    const conversation = await deps.store.getConversation(place.conversationId);
    if (conversation) await settleIn(deps, conversation, messageId, reported);
    return;
  }
  // A user named by their BSUID alone: the contact it is linked to (recordEcho's resolveAlias).
  const linked = mayBeAlias(place.contactKey) ? await deps.store.resolveAlias(place.contactKey) : null;
  const contact = await deps.store.getContact(linked?.contactKey ?? place.contactKey);
  const open = contact?.openConversationId ?? null;
  const conversation = open ? await deps.store.getConversation(open) : null;
  if (conversation && (await settleIn(deps, conversation, messageId, reported))) return;
  // Resolved since the try (its pointer released, or the customer's next conversation open): its
  // latest other conversation, read only then. Settled there as in an open one; never reopened.
  const latest = contact?.conversationIds.findLast((id) => id !== open);
  const resolved = latest ? await deps.store.getConversation(latest) : null;
  if (resolved) await settleIn(deps, resolved, messageId, reported);
}

/** The try `messageId` settled in `conversation` when it waits there for its report; false when none does. */
async function settleIn(
  deps: UpdateDeps,
  conversation: Conversation,
  messageId: string,
  reported: Reported,
): Promise<boolean> {
  const reply = conversation.uncertainReplies?.[messageId];
  if (reply) {
    await settleReply(deps, conversation, messageId, reported, reply);
    return true;
  }
  for (const slot of ['ack', 'notice'] as const) {
    const job = conversation[slot];
    if (job?.uncertain && awaitsReport(job) && ackTryMessageId(conversation.id, job, slot) === messageId) {
      const { episode, uncertain } = job;
      await settleAutomatic(deps, conversation, { slot, episode, uncertain }, messageId, reported);
      return true;
    }
  }
  const owed = conversation.lookUps?.find((l) => ackTryMessageId(conversation.id, l, l.slot) === messageId);
  const uncertain = owed?.uncertain;
  // One being sent when its slot was taken (no uncertain try): its worker settles it.
  if (owed && uncertain)
    await settleAutomatic(deps, conversation, { ...owed, uncertain }, messageId, reported);
  return owed !== undefined && uncertain !== undefined;
}

/**
 * A job whose last try lost its answer and that waits for its report: pending for its next try, or
 * failed only because its tries ran out (dead-lettered, its redrive would ask first). Not one a
 * worker holds (sending: it reads the report before sending) nor one the provider refused.
 */
function awaitsReport(job: NonNullable<Conversation[Slot]>): boolean {
  if (!job.uncertain) return false;
  return job.state === 'pending' || (job.state === 'failed' && job.deadLetteredAt !== undefined);
}

/** An agent's reply whose answer was lost, reported: stored and applied (reply.sent, the episode answered). */
async function settleReply(
  deps: UpdateDeps,
  conversation: Conversation,
  messageId: string,
  reported: Reported,
  reply: NonNullable<Conversation['uncertainReplies']>[string],
): Promise<void> {
  const via = wentVia(conversation, reply);
  if (!via) return;
  const { message, early } = await storeReported(deps, conversation, {
    id: messageId,
    kind: 'reply',
    via,
    reported,
    uncertain: reply,
    ...(reply.template ? { template: reply.template } : {}),
  });
  if (early) await applyDelivery(deps, message, early);
  // Stamped when it went, as the retry's lookup stores it: a customer message since is not answered by it.
  await applyStoredReply(deps, message, reply.agent ?? null);
}

/** An ack or notice whose try's answer was lost, reported: stored and settled sent, as its worker would. */
async function settleAutomatic(
  deps: UpdateDeps,
  conversation: Conversation,
  job: { slot: Slot; episode: number; uncertain: UncertainTry },
  messageId: string,
  reported: Reported,
): Promise<void> {
  const { slot, episode, uncertain } = job;
  const via = wentVia(conversation, uncertain);
  if (!via) return;
  // Never before the message it answers, as its worker stores it (a clock behind, the same millisecond).
  const answered = conversation.episode === episode ? Date.parse(conversation.awaitingSince ?? '') + 1 : 0;
  const at = new Date(Math.max(Date.parse(uncertain.at), answered || 0)).toISOString();
  const { message, early } = await storeReported(deps, conversation, {
    id: messageId,
    kind: slot,
    via,
    reported,
    uncertain: { ...uncertain, at },
  });
  const sent = { state: 'sent', at: new Date(message.createdAt), messageId } as const;
  // What this settle counts: a send (as its worker or lookup would have), or a failure counted
  // when it went to the DLQ taken back with it; nothing for an ack a call's greeting spoke since
  // (counted at intake) nor when nothing was settled.
  let counted: 'sent' | 'taken-back' | null = null;
  await updateConversation(deps.store, conversation.id, (current) => {
    const inSlot = current[slot];
    counted = null;
    if (inSlot?.episode === episode && awaitsReport(inSlot)) {
      counted = inSlot.state === 'failed' ? 'taken-back' : 'sent';
      // A dead-lettered one's failure was only that we could not learn whether it went: it did.
      const reopened =
        inSlot.state === 'failed' ? { ...current, [slot]: { ...inSlot, state: 'sending' } } : current;
      const settled = settleAck(reopened, episode, sent, slot);
      // What it stated holds, as when its worker finds it stored (an ended episode's promise is
      // no longer anyone's to move).
      if (ackNoLongerNeeded(current, episode)) return settled;
      const promise = statedPromise(deps, current, slot, sent.at);
      if (promise) return stateNewPromise(settled, slot, promise);
      return slot === 'ack' && current.promise
        ? stateSigner(settled, signedNow(deps.business, current.promise))
        : settled;
    }
    const owed = current.lookUps?.find((l) => l.slot === slot && l.episode === episode);
    if (!owed) return current;
    // An owed lookup of a job that failed (dead-lettered) is taken back the same.
    const spoken = inSlot?.episode === episode && inSlot.reason === 'spoken-on-call';
    counted = owed.countedFailed === true ? 'taken-back' : spoken ? null : 'sent';
    return settleLookUp(current, owed, sent);
  });
  // Counted failed when it went to the DLQ (AcksFailed, NoticesFailed): taken back and counted
  // sent, once (only the write that moved it from failed to sent), as if its worker had learnt it.
  // Else counted sent as its next try's lookup would have, once (only the write that settled it).
  if (counted === 'taken-back') takeBackFailure(deps, slot);
  if (counted === 'sent') deps.metrics.count(slot === 'ack' ? 'AcksSent' : 'NoticesSent');
  // A status held for its id (a failure) applies to it as sent, as on its worker's write.
  if (early) await applyDelivery(deps, message, early);
}

/**
 * A dead-lettered ack (notice) that did go: its failure taken back where it was counted (a
 * negative count, summed in the alarm's window it lands in) and its send counted, so the
 * AcksFailing share reads it as any ack sent (docs/channels.md).
 */
function takeBackFailure(deps: UpdateDeps, slot: Slot): void {
  deps.metrics.count(slot === 'ack' ? 'AcksFailed' : 'NoticesFailed', -1);
  deps.metrics.count(slot === 'ack' ? 'AcksSent' : 'NoticesSent');
}

/**
 * The reported message stored as what the customer got, when the try went, and findable by its
 * provider id: with the status held for that id, for the caller to apply once it is settled. An
 * earlier store under its id (a lookup's, a redelivered report's) is kept.
 */
async function storeReported(
  deps: UpdateDeps,
  conversation: Conversation,
  sent: {
    id: string;
    kind: 'reply' | Slot;
    via: NonNullable<ReturnType<typeof wentVia>>;
    reported: Reported;
    uncertain: { at: string; text: string };
    template?: { name: string; language?: string };
  },
): Promise<{ message: Message; early: DeliveryUpdate | null }> {
  const { id, kind, via, reported, uncertain, template } = sent;
  const { message } = await deps.store.putMessage({
    id,
    conversationId: conversation.id,
    direction: 'outbound',
    kind,
    channel: via.channel,
    provider: reported.provider,
    providerMessageId: reported.providerMessageId,
    from: via.from,
    to: via.to,
    text: uncertain.text,
    media: [],
    createdAt: uncertain.at,
    contactKey: conversation.contact.key,
    ...(template ? { template } : {}),
  });
  const early = message.providerMessageId
    ? await deps.store.putProviderAlias(message.provider, message.providerMessageId, message.id)
    : null;
  return { message, early };
}
