import type { BusinessConfig } from './business-config.ts';
import type { Ack, Conversation } from './conversation.ts';

/**
 * One person under two keys (a WhatsApp number and a BSUID) may wait in two conversations: the
 * one their BSUID opened before the link, and the number's, opened by the message that linked
 * them. The number's episode is acknowledged once with the BSUID's: an ack still queued there
 * at the link is named on this one (Ack.after), and the worker goes by it at send time.
 */

/** How long an ack waits before it looks again at the ack it waits for, at least. */
export const LINKED_ACK_WAIT_MS = 30_000;

/**
 * How long after it was requested an ack waits for a conversation that was only claimed when the
 * link read it (Ack.after with `contactKey`), or for an episode not begun when it was named
 * (ackToWaitForAtLink), to be written. Only a recording already under way
 * then can write it (any later one reads the link first and goes where it leads), and none runs
 * longer than its function's timeout (10 s for webhooks, 30 s for the worker); a message recorded
 * late holds its ack longer anyway (LATE_ACK_HOLD_MS). A claim not written by then was given up
 * (its recording failed, and its retry went where the link leads): this ack goes.
 */
export const LINKED_CLAIM_MAX_WAIT_MS = 2 * 60_000;

const MINUTE = 60_000;

/**
 * The episode's ack of `conversation` while it is still to go (pending or being sent) and the
 * customer waits there: what an ack of the same person's linked conversation is to wait for.
 */
export function queuedAckOf(conversation: Conversation): Ack['after'] {
  const { ack } = conversation;
  if (conversation.status !== 'open' || conversation.awaitingSince === null) return undefined;
  if (ack?.episode !== conversation.episode) return undefined;
  if (ack.state !== 'pending' && ack.state !== 'sending') return undefined;
  return { conversationId: conversation.id, episode: ack.episode };
}

/**
 * What the ack of a BSUID-only message that found the link only after writing its episode (the
 * linking message may have read its conversation before that write) waits for: the ack of the
 * person's waiting episode in `other`, the conversation the link's contact has open (`claimedId`,
 * null: only claimed, not written), or of the episode the linking message opens there when
 * nobody waits there yet (maybe not written yet either: linkedAckVerdict waits for it). Undefined
 * when that conversation has ended (the linking message goes to another, which reads this one).
 */
export function ackToWaitForAtLink(
  other: Conversation | null,
  claimedId: string,
  contactKey: string,
): Ack['after'] {
  if (!other) return { conversationId: claimedId, episode: 1, contactKey };
  if (other.status !== 'open') return undefined;
  const episode = other.awaitingSince === null ? other.episode + 1 : other.episode;
  return { conversationId: other.id, episode };
}

/** What an ack waiting for another (Ack.after) does now. */
export type LinkedAckVerdict =
  /** That one went: this episode was acknowledged there. */
  | { kind: 'skip'; reason: 'recently-acknowledged' | 'recently-answered' }
  /** That one is still to go: look again then. */
  | { kind: 'wait'; retryAt: Date }
  /** That one did not go (refused, skipped, out of retries): this one goes. */
  | { kind: 'send' };

/**
 * The verdict on `ack`, which waits for `ack.after`: the ack of `other` (as read now; null: not
 * written), `stillClaimed` when that conversation is not written but its contact still points to
 * it. The rule at the link, applied when that ack has settled: sent, the customer was
 * acknowledged; not sent but a person answered there moments ago, they are mid-conversation;
 * else ours goes, so that the customer is never left with none.
 */
export function linkedAckVerdict(
  other: Conversation | null,
  ack: Pick<Ack, 'after' | 'requestedAt'> & { after: NonNullable<Ack['after']> },
  stillClaimed: boolean,
  now: Date,
  settings: Pick<BusinessConfig['ack'], 'quietMinutesAfterReply'>,
  /** The id of the conversation whose ack this is. */
  self: string,
): LinkedAckVerdict {
  const { after } = ack;
  // Not written yet (only claimed, or its episode not begun): a recording under way writes it.
  const unwritten = other ? other.episode < after.episode : stillClaimed;
  if (unwritten && now.getTime() - Date.parse(ack.requestedAt) < LINKED_CLAIM_MAX_WAIT_MS) {
    return { kind: 'wait', retryAt: new Date(now.getTime() + LINKED_ACK_WAIT_MS) };
  }
  const job = other?.ack;
  if (!other || job?.episode !== after.episode) return { kind: 'send' };
  if (job.state === 'sent') return { kind: 'skip', reason: 'recently-acknowledged' };
  if (job.state === 'pending' || job.state === 'sending') {
    // Two that wait for each other (each queued when a message linked the keys): the one with the
    // lower conversation id goes, the other waits for it. Neither waiting would leave none.
    if (job.state === 'pending' && job.after?.conversationId === self && self < other.id)
      return { kind: 'send' };
    const next = Math.max(
      now.getTime() + LINKED_ACK_WAIT_MS,
      Date.parse(job.retryAt ?? '') || 0,
      Date.parse(job.leaseUntil ?? '') || 0,
    );
    return { kind: 'wait', retryAt: new Date(next) };
  }
  const replied = Date.parse(other.lastReplyAt ?? '');
  if (now.getTime() - replied < settings.quietMinutesAfterReply * MINUTE) {
    return { kind: 'skip', reason: 'recently-answered' };
  }
  return { kind: 'send' };
}
