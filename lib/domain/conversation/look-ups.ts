// Owed lookups: an ended episode's ack or notice whose last try was uncertain, kept when the next
// episode's job takes its slot, queued by the sweeper and settled by the worker.

import { withEvent } from '../events.ts';
import { REDRIVE_AFTER_MS } from './ack-claim.ts';
import type { Ack, OwedLookUp, Slot, UncertainTry } from './ack-schema.ts';
import { mayHaveGone, type SettleOutcome } from './ack-settle.ts';
import type { Conversation } from './schema.ts';

/**
 * When the sweeper queues an owed lookup's job: at `retryAt`, and after a job it queued, not
 * before another grace period (a worker held up would otherwise get a job, each a provider list
 * call, on every run). Never (null) once dead-lettered.
 */
export function lookUpDueAt(owed: OwedLookUp, graceMs: number): number | null {
  // Dead-lettered: a redrive from the DLQ asks again, not the sweeper.
  if (owed.deadLetteredAt) return null;
  const retry = Date.parse(owed.retryAt);
  return owed.enqueuedAt ? Math.max(retry, Date.parse(owed.enqueuedAt) + graceMs) : retry;
}

/** The sweeper queued these owed lookups' jobs (markAckEnqueued's counterpart). */
export function markLookUpsEnqueued(
  conversation: Conversation,
  queued: readonly Pick<OwedLookUp, 'slot' | 'episode'>[],
  now: Date,
): Conversation {
  const isQueued = (owed: OwedLookUp) =>
    queued.some((q) => q.slot === owed.slot && q.episode === owed.episode);
  const lookUps = conversation.lookUps;
  if (!lookUps?.some(isQueued)) return conversation;
  const enqueuedAt = now.toISOString();
  return {
    ...conversation,
    lookUps: lookUps.map((owed) => (isQueued(owed) ? { ...owed, enqueuedAt } : owed)),
  };
}

/** How many owed lookups a conversation keeps: each is minutes old, and two replaced episodes in that time are rare. */
const MAX_LOOK_UPS = 4;

/**
 * Before `slot` is taken by the next episode's job: its ended episode's job, when its last try
 * may have gone (mayHaveGone: uncertain, or reported and not read back) and it still waits for
 * its lookup (pending) or a redrive (failed), is kept in
 * `lookUps`, due when its own next try would have been. So is one a worker is sending (its
 * outcome and the number its claim reserved are still to be written), due when its lease ends.
 * Rides on the write that replaces it.
 */
export function owingLookUp(conversation: Conversation, slot: Slot, now: Date): Conversation {
  const job = conversation[slot];
  if (job?.state === 'sending') {
    const retryAt = job.leaseUntil ?? now.toISOString();
    return withOwedLookUp(conversation, slot, job, job.uncertain, retryAt, false);
  }
  // One reported taken whose read-back failed (no uncertain mark) is owed its lookup too: it reads the report.
  if (!job || !mayHaveGone(job) || (job.state !== 'pending' && job.state !== 'failed')) return conversation;
  const retryAt = job.state === 'pending' && job.retryAt ? job.retryAt : now.toISOString();
  return withOwedLookUp(conversation, slot, job, job.uncertain, retryAt, job.state === 'failed');
}

/**
 * A try of a job whose slot the next episode's job took while it was being sent, known to have
 * gone (its worker's settle, or a redelivery of its job that finds it stored after its worker
 * died): announced (`*.sent`) under the id its worker announces ahead, in this write's outbox
 * too, for when that announcement failed or never came (the slot's job is another's now, so
 * nothing else would say it went). The same conversation when the slot is not another's.
 */
export function replacedSent(
  conversation: Conversation,
  slot: Slot,
  job: Pick<Ack, 'episode' | 'resends' | 'sequence'>,
  sent: { at: Date; messageId: string },
): Conversation {
  const inSlot = conversation[slot];
  if (!inSlot || inSlot.episode <= job.episode) return conversation;
  const { episode, resends } = job;
  const occurrence = resends ? `${episode}:resend:${resends}` : String(episode);
  const type = slot === 'ack' ? 'ack.sent' : 'notice.sent';
  return withEvent(
    conversation,
    type,
    occurrence,
    sent.at,
    { episode, messageId: sent.messageId },
    job.sequence,
  );
}

/**
 * The worker's settle of a job whose slot the next episode's job took while it was being sent
 * (its entry in `lookUps`, owingLookUp's, replaced here): a try that ended uncertain, or one that
 * keeps an earlier uncertain try, is owed its lookup all the same, due at its retry (a failed one
 * at once, as owingLookUp); a sent one is announced (`*.sent`); one that did not go, under the
 * number its claim reserved (replacedUnsent).
 */
export function owingReplacedTry(
  conversation: Conversation,
  slot: Slot,
  sending: Ack,
  outcome: SettleOutcome,
  /** When the worker settles it (a try to be made again carries no time of its own). */
  now: Date,
): Conversation {
  const inSlot = conversation[slot];
  if (!inSlot || inSlot.episode <= sending.episode) return conversation;
  // Its entry, written by the write that took its slot (owingLookUp), is this outcome's to settle.
  const mine = (l: OwedLookUp) => l.slot === slot && l.episode === sending.episode;
  const others = (conversation.lookUps ?? []).filter((l) => !mine(l));
  const { lookUps: _all, ...without } = conversation;
  const settled: Conversation = !conversation.lookUps?.some(mine)
    ? conversation
    : others.length > 0
      ? { ...without, lookUps: others }
      : without;
  if (outcome.state === 'sent') return replacedSent(settled, slot, sending, outcome);
  // (UncertainOutcome is UncertainTry with a Date: the Omit over a loose schema loses its keys' types.)
  const uncertain =
    outcome.state === 'skipped'
      ? undefined
      : outcome.uncertain
        ? ({ ...outcome.uncertain, at: outcome.uncertain.at.toISOString() } as UncertainTry)
        : sending.uncertain;
  if (!uncertain) return replacedUnsent(settled, slot, sending, outcome, now);
  const retryAt = outcome.state === 'pending' ? outcome.retryAt : outcome.at;
  return withOwedLookUp(settled, slot, sending, uncertain, retryAt.toISOString(), outcome.state === 'failed');
}

/**
 * A try of a job whose slot the next episode's job took while it was being sent, known not to
 * have gone (skipped, refused, or to be tried again, which its ended episode no longer wants):
 * its outcome announced under the number its claim reserved (Ack.sequence), which nothing else
 * would take. One claimed by a release that reserved none changes nothing, as before.
 */
function replacedUnsent(
  conversation: Conversation,
  slot: Slot,
  job: Ack,
  outcome: SettleOutcome,
  now: Date,
): Conversation {
  if (job.sequence === undefined || outcome.state === 'sent') return conversation;
  const failed = outcome.state === 'failed';
  const type =
    slot === 'ack' ? (failed ? 'ack.failed' : 'ack.skipped') : failed ? 'notice.failed' : 'notice.skipped';
  const reason = outcome.state === 'pending' ? 'answered' : outcome.reason;
  const occurrence = `${job.episode}:${job.requestedAt}${job.resends ? `:resend:${job.resends}` : ''}`;
  return withEvent(
    conversation,
    type,
    occurrence,
    outcome.state === 'pending' ? now : outcome.at,
    { episode: job.episode, reason },
    job.sequence,
  );
}

function withOwedLookUp(
  conversation: Conversation,
  slot: Slot,
  job: Ack,
  uncertain: UncertainTry | undefined,
  retryAt: string,
  /** The job failed (its worker counted it in AcksFailed or NoticesFailed). */
  failed: boolean,
): Conversation {
  const owed: OwedLookUp = {
    slot,
    episode: job.episode,
    requestedAt: job.requestedAt,
    attempts: 0,
    retryAt,
    ...(uncertain ? { uncertain } : {}),
    ...(job.resends ? { resends: job.resends } : {}),
    ...(job.sequence !== undefined ? { sequence: job.sequence } : {}),
    ...(failed ? { countedFailed: true as const } : {}),
  };
  const others = (conversation.lookUps ?? []).filter((l) => l.slot !== slot || l.episode !== job.episode);
  return { ...conversation, lookUps: [...others, owed].slice(-MAX_LOOK_UPS) };
}

/**
 * An owed lookup's outcome: found (`sent`, announced as the ended episode's ack.sent or
 * notice.sent), not found or given up (`skipped`, announced), or asked again later (`pending`).
 */
export function settleLookUp(
  conversation: Conversation,
  owed: OwedLookUp,
  outcome:
    | { state: 'sent'; at: Date; messageId: string }
    | { state: 'skipped'; reason: string; at: Date }
    | { state: 'pending'; retryAt: Date; counted?: boolean },
): Conversation {
  const others = (conversation.lookUps ?? []).filter(
    (l) => l.slot !== owed.slot || l.episode !== owed.episode,
  );
  if (outcome.state === 'pending') {
    // A lookup its channel's configuration kept from being made spends no try (counted: false).
    const attempts = owed.attempts + (outcome.counted === false ? 0 : 1);
    const later = { ...owed, attempts, retryAt: outcome.retryAt.toISOString() };
    return { ...conversation, lookUps: [...others, later] };
  }
  const { lookUps: _all, ...without } = conversation;
  const settled: Conversation = others.length > 0 ? { ...without, lookUps: others } : without;
  const { episode } = owed;
  // The episode's ack is on record as sent already (spoken on a call since): nothing to announce.
  const job = conversation[owed.slot];
  if (job?.episode === episode && job.state === 'sent') return settled;
  if (outcome.state === 'sent') {
    const type = owed.slot === 'ack' ? 'ack.sent' : 'notice.sent';
    const data = { episode, messageId: outcome.messageId };
    return withEvent(settled, type, String(episode), outcome.at, data, owed.sequence);
  }
  const type = owed.slot === 'ack' ? 'ack.skipped' : 'notice.skipped';
  const data = { episode, reason: outcome.reason };
  return withEvent(settled, type, `${episode}:${owed.requestedAt}`, outcome.at, data, owed.sequence);
}

/**
 * An owed lookup whose tries ran out while the provider could not be read back: kept (its
 * countedFailed set: its job is counted failed as it goes on to the DLQ), marked dead-lettered.
 */
export function deadLetterLookUp(conversation: Conversation, owed: OwedLookUp, now: Date): Conversation {
  const others = (conversation.lookUps ?? []).filter(
    (l) => l.slot !== owed.slot || l.episode !== owed.episode,
  );
  const dead: OwedLookUp = { ...owed, countedFailed: true, deadLetteredAt: now.toISOString() };
  return { ...conversation, lookUps: [...others, dead] };
}

/**
 * A dead-lettered owed lookup's delivery: a redrive from the DLQ (a first delivery, or any once
 * the copies' receives are over, as isRedrive), or another copy of its job (`copy`: on to the
 * DLQ). Null when it is not dead-lettered.
 */
export function owedRedrive(owed: OwedLookUp, now: Date, firstDelivery: boolean): 'redrive' | 'copy' | null {
  if (!owed.deadLetteredAt) return null;
  const since = Date.parse(owed.deadLetteredAt);
  return firstDelivery || now.getTime() - since >= REDRIVE_AFTER_MS ? 'redrive' : 'copy';
}
