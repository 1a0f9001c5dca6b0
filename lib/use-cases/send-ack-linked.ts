// The ack worker's claim of an ack that waits for the same person's ack in their other key's
// conversation (Ack.after, stop 28), and whether a route's sender is switched off here.

import { CHANNEL_WAIT_REASON, type Conversation, settleAck } from '#lib/domain/conversation.ts';
import { linkedAckVerdict } from '#lib/domain/linked-ack.ts';
import { switchedOffRetryAt } from './ack-lookups.ts';
import type { SendAckDeps, SendAckResult } from './send-ack-deps.ts';

/**
 * An ack due now that waits for the same person's ack in another conversation (Ack.after: the
 * one their other key opened before the link, still queued then): one read of that
 * conversation, and of its contact while it is not written. While that ack is still to go, this
 * one waits (`retryAt`, no try counted); once it went, this one is skipped; when it did not go,
 * this one is freed (`free`) and sent. Null for any other ack, or one not due yet.
 */
export async function afterLinkedAck(
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
    // Its channel switched off here (the ack it waits for, on the same channel, cannot go
    // either): it waits for the channel as any ack does (waitsForChannel, no sweep time), not
    // looked at again every minute for as long as the setting stays missing. The deployment
    // that can send it queues it, and this verdict is taken again there.
    const wait = channelStillOff(deps, conversation)
      ? { reason: CHANNEL_WAIT_REASON, retryAt: switchedOffRetryAt(now).toISOString() }
      : { retryAt: verdict.retryAt.toISOString() };
    const next = { ...conversation, ack: { ...job, ...wait } };
    return { kind: 'done', next, result: { kind: 'nothing-to-do', reason: 'not-yet' } };
  }
  if (verdict.kind === 'skip') {
    const next = settleAck(conversation, job.episode, { state: 'skipped', reason: verdict.reason, at: now });
    return { kind: 'done', next, result: { kind: 'skipped', reason: verdict.reason } };
  }
  const { after: _after, ...freed } = job;
  return { free: { ...conversation, ack: freed } };
}

/** Whether the conversation's route is a sender this deployment has switched off. */
export function channelStillOff(deps: SendAckDeps, conversation: Conversation): boolean {
  const { provider, channel, businessId } = conversation.route;
  return deps.senders(provider, channel, businessId)?.switchedOff === true;
}
